export { appointmentSync } from './appointmentSync';
export { replayFailures } from './replayFailures';
export { deliverWebhook } from './deliverWebhook';
export { calendarLink } from './calendarLink';
export { busyImport } from './busyImport';
export { reconcileLink } from './reconcileLink';
export { settingsResync } from './settingsResync';
export { teamCalendarSharing } from './teamCalendarSharing';
