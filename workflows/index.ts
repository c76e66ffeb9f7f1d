export { appointmentSync } from './appointmentSync';
export { replayFailures } from './replayFailures';
export { deliverWebhook } from './deliverWebhook';
export { calendarLink } from './calendarLink';
