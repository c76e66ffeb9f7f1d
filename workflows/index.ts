// The workflow bundle's entry: workflow functions only. Ids, signals and queries are in each
// folder's contract.ts; the helpers that start and signal them, in its client.ts.
export { appointmentSync } from './appointmentSync/workflow';
export { replayFailures } from './replayFailures/workflow';
export { deliverWebhook } from './deliverWebhook/workflow';
export { calendarLink } from './calendarLink/workflow';
export { busyImport } from './busyImport/workflow';
export { reconcileLink } from './reconcileLink/workflow';
export { settingsResync } from './settingsResync/workflow';
export { teamCalendarSharing } from './teamCalendarSharing/workflow';
