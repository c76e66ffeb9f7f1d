import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import knex from 'knex';
import { calsyncDataConverter } from '../lib/payloadCodec';
import { appointmentWorkflowId, syncStatusQuery } from '../workflows/appointmentSync/contract';
import type { PrivateStack } from './harness';
import { historyEvents } from './historyCost';

const { EventType, WorkflowExecutionStatus } = temporal.api.enums.v1;

/**
 * Everything a run knows of one appointment, as lines to print when a run ends wrong (the chaos
 * check): its workflow's status and pending work, the events of its latest run, what the workflow
 * answers of its targets, and its sync-log rows. The stack's databases are dropped when it stops, so
 * this is read before.
 */
export async function appointmentTrail(
  stack: PrivateStack,
  tenantId: string,
  appointmentId: string,
): Promise<string[]> {
  const lines: string[] = [];
  const workflowId = appointmentWorkflowId(tenantId, appointmentId);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({
    connection,
    dataConverter: calsyncDataConverter(stack.env.CALSYNC_PAYLOAD_KEYS || stack.env.CALSYNC_TOKEN_KEYS!, false),
  });
  const db = knex({ client: 'pg', connection: stack.env.DATABASE_URL, pool: { min: 0, max: 1 } });
  try {
    const handle = client.workflow.getHandle(workflowId);
    try {
      const { raw } = await handle.describe();
      const status = WorkflowExecutionStatus[raw.workflowExecutionInfo?.status ?? 0];
      lines.push(`${workflowId} run ${raw.workflowExecutionInfo?.execution?.runId}: ${status}`);
      for (const a of raw.pendingActivities ?? []) {
        lines.push(`  pending ${a.activityType?.name} attempt ${a.attempt} ${a.lastFailure?.message ?? ''}`.trimEnd());
      }
      if (raw.pendingWorkflowTask)
        lines.push(`  pending workflow task, attempt ${raw.pendingWorkflowTask.attempt ?? 1}`);
    } catch (err) {
      lines.push(`${workflowId}: no workflow (${(err as Error).message})`);
      return lines;
    }
    for await (const e of historyEvents(connection, workflowId)) lines.push(`  ${describeEvent(e)}`);
    try {
      const status = await Promise.race([
        handle.query(syncStatusQuery),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer in 5 s')), 5000)),
      ]);
      lines.push(
        `  answers revision ${status.desiredRevision}, busy ${status.busy}: ${status.targets
          .map((t) => `${t.targetKey} ${t.state} r${t.appliedRevision ?? '-'}`)
          .join('; ')}`,
      );
    } catch (err) {
      lines.push(`  query: ${(err as Error).message}`);
    }
    const logged = await db('sync_log')
      .where({ tenant_id: tenantId, appointment_id: appointmentId })
      .orderBy('id')
      .select('created_at', 'target_key', 'action', 'result', 'revision', 'attempt', 'error_code');
    for (const r of logged) {
      lines.push(
        `  log ${new Date(r.created_at).toISOString()} ${r.target_key} ${r.action} ${r.result} r${r.revision} #${r.attempt ?? '-'} ${r.error_code ?? ''}`.trimEnd(),
      );
    }
  } finally {
    await db.destroy();
    await connection.close();
  }
  return lines;
}

/** One history event on a line: id, time, type, and what tells it apart (no payloads: they are encrypted). */
function describeEvent(e: temporal.api.history.v1.IHistoryEvent): string {
  const type = EventType[e.eventType ?? 0]?.replace('EVENT_TYPE_', '') ?? String(e.eventType);
  const at = e.eventTime?.seconds ? new Date(Number(e.eventTime.seconds) * 1000).toISOString().slice(11, 19) : '';
  const detail =
    e.workflowExecutionSignaledEventAttributes?.signalName ??
    e.markerRecordedEventAttributes?.failure?.message ??
    e.workflowTaskFailedEventAttributes?.failure?.message ??
    e.activityTaskScheduledEventAttributes?.activityType?.name ??
    e.activityTaskFailedEventAttributes?.failure?.message ??
    e.timerStartedEventAttributes?.timerId ??
    (e.workflowTaskTimedOutEventAttributes ? 'timed out' : '');
  return `${e.eventId} ${at} ${type} ${detail ?? ''}`.trimEnd();
}
