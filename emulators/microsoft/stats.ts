/** Request counters per mailbox: the same bookkeeping as the Google emulator's. */
export { Stats, type OperationStats } from '../google/stats';
