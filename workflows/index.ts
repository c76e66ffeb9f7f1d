export { appointmentSync } from './appointmentSync';
