import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DesiredAppointment, SyncPolicy, TargetStatus } from '../../lib/types';

/** Signals and queries of appointmentSync; the API imports these, so they stay free of I/O. */
export const desiredStateSignal = defineSignal<[DesiredAppointment]>('desiredState');
/**
 * Support's replay: adopt `desired` if it is newer, then retry every target not in step. `force`
 * rewrites targets that are in step too (one target with `targetKey`), at the cost of remote writes.
 */
export interface ResyncRequest {
  desired?: DesiredAppointment;
  targetKey?: string;
  force?: boolean;
}
export const resyncSignal = defineSignal<[ResyncRequest]>('resync');

/**
 * From the push activity, after an attempt that Temporal will retry: the workflow cannot see an
 * activity's retries, and CalsyncState should say `retrying` meanwhile (as the API does).
 */
export const targetRetryingSignal = defineSignal<[{ targetKey: string; revision: number }]>('targetRetrying');

export interface AppointmentSyncStatus {
  tenantId: string;
  appointmentId: string;
  desiredRevision: number | null;
  deleted: boolean;
  status: string | null;
  /** True while a change is waiting out its coalescing window or being applied. */
  busy: boolean;
  targets: TargetStatus[];
}
export const syncStatusQuery = defineQuery<AppointmentSyncStatus>('syncStatus');

export interface AppointmentSyncInput {
  tenantId: string;
  appointmentId: string;
  policy: SyncPolicy;
  /** Set when the workflow continues as new: what the previous run knew. */
  carried?: { desired?: DesiredAppointment; targets: TargetStatus[]; dirty: boolean };
}

export function appointmentWorkflowId(tenantId: string, appointmentId: string): string {
  return `appt:${tenantId}:${appointmentId}`;
}
