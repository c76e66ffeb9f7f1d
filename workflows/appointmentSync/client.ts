import type { Client } from '@temporalio/client';
import { CalsyncEntityId, CalsyncStaff, CalsyncState, CalsyncTenant } from '../../lib/searchAttributes';
import type { DesiredAppointment, SyncPolicy } from '../../lib/types';
import {
  appointmentWorkflowId,
  desiredStateSignal,
  resyncSignal,
  targetRetryingSignal,
  type AppointmentSyncInput,
  type ResyncRequest,
} from './contract';
import type { appointmentSync } from './workflow';

/** Where an appointment's workflow runs and how it paces itself. */
export interface AppointmentRouting {
  taskQueue: string;
  policy: SyncPolicy;
}

/** One line for Temporal UI's workflow list: `appointment <id> · <title> · <status>` (as the CRM sent them at start). */
export function workflowSummary(desired: DesiredAppointment): string {
  const title = desired.title || desired.services?.join(', ') || '(no title)';
  return `${desired.type} ${desired.appointmentId} · ${title} · ${desired.status}`.slice(0, 400);
}

/** Markdown for the workflow page: who, when, for which tenant; the per-target state is in its current details. */
export function workflowDetails(desired: DesiredAppointment): string {
  return [
    `**tenant** ${desired.tenantId}`,
    `**when** ${desired.start} – ${desired.end} (${desired.timeZone})`,
    `**staff** ${desired.staffIds.join(', ') || '—'}`,
    `**revision at start** ${desired.revision}`,
  ].join('  \n');
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
    // Temporal UI's list and workflow page show these. They hold a title (personal data), and user
    // metadata goes through the client's payload codec like any payload: encrypted, decoded by /codec.
    staticSummary: workflowSummary(desired),
    staticDetails: workflowDetails(desired),
    typedSearchAttributes: [
      { key: CalsyncTenant, value: desired.tenantId },
      { key: CalsyncEntityId, value: desired.appointmentId },
      { key: CalsyncState, value: 'pending' },
      { key: CalsyncStaff, value: desired.staffIds },
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

/** Tells the appointment's workflow that a target's write failed and is being retried. */
export async function reportTargetRetrying(
  client: Client,
  desired: Pick<DesiredAppointment, 'tenantId' | 'appointmentId' | 'revision'>,
  targetKey: string,
): Promise<void> {
  await client.workflow
    .getHandle(appointmentWorkflowId(desired.tenantId, desired.appointmentId))
    .signal(targetRetryingSignal, { targetKey, revision: desired.revision });
}
