import type { Client } from '@temporalio/client';
import { CalsyncEntityId, CalsyncState, CalsyncTenant } from '../../lib/searchAttributes';
import type { DesiredAppointment, SyncPolicy } from '../../lib/types';
import {
  appointmentWorkflowId,
  desiredStateSignal,
  resyncSignal,
  type AppointmentSyncInput,
  type ResyncRequest,
} from './contract';
import type { appointmentSync } from './workflow';

/** Where an appointment's workflow runs and how it paces itself. */
export interface AppointmentRouting {
  taskQueue: string;
  policy: SyncPolicy;
}

function startOptions(routing: AppointmentRouting, desired: DesiredAppointment) {
  const input: AppointmentSyncInput = {
    tenantId: desired.tenantId,
    appointmentId: desired.appointmentId,
    policy: routing.policy,
  };
  return {
    workflowId: appointmentWorkflowId(desired.tenantId, desired.appointmentId),
    taskQueue: routing.taskQueue,
    args: [input] as [AppointmentSyncInput],
    staticSummary: `${desired.type} ${desired.appointmentId} of tenant ${desired.tenantId}`,
    typedSearchAttributes: [
      { key: CalsyncTenant, value: desired.tenantId },
      { key: CalsyncEntityId, value: desired.appointmentId },
      { key: CalsyncState, value: 'pending' },
    ],
  };
}

/** Hands a new desired state to the appointment's workflow, starting it if it is not running. */
export async function sendDesiredState(
  client: Client,
  routing: AppointmentRouting,
  desired: DesiredAppointment,
): Promise<void> {
  await client.workflow.signalWithStart<typeof appointmentSync, [DesiredAppointment]>('appointmentSync', {
    ...startOptions(routing, desired),
    signal: desiredStateSignal,
    signalArgs: [desired],
  });
}

/** Asks the workflow (started again if it has closed) to retry what is not in step. */
export async function requestResync(
  client: Client,
  routing: AppointmentRouting,
  desired: DesiredAppointment,
  opts: Omit<ResyncRequest, 'desired'> = {},
): Promise<void> {
  await client.workflow.signalWithStart<typeof appointmentSync, [ResyncRequest]>('appointmentSync', {
    ...startOptions(routing, desired),
    signal: resyncSignal,
    signalArgs: [{ ...opts, desired }],
  });
}
