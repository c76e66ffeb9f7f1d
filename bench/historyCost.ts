import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { EventType } = temporal.api.enums.v1;

export interface HistoryCost {
  workflows: number;
  /** History events per workflow, on average. */
  events: number;
  /** Workflow tasks completed per workflow, on average. */
  workflowTasks: number;
  /** Timers started per workflow, on average. */
  timers: number;
  /** Local-activity markers per workflow, on average. */
  markers: number;
}

/** The events of a workflow's latest run, page by page (payloads as stored: encrypted). */
export async function* historyEvents(
  connection: Connection,
  workflowId: string,
): AsyncGenerator<temporal.api.history.v1.IHistoryEvent> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await connection.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
      nextPageToken,
    });
    yield* page.history?.events ?? [];
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
}

/**
 * What a change costs Temporal, read from the histories themselves: events, workflow tasks, timers
 * and local-activity markers of the given workflows (payloads stay encrypted: only types are read).
 */
export async function historyCost(address: string, workflowIds: string[]): Promise<HistoryCost> {
  const connection = await Connection.connect({ address });
  try {
    const totals = { events: 0, workflowTasks: 0, timers: 0, markers: 0 };
    for (const workflowId of workflowIds) {
      for await (const e of historyEvents(connection, workflowId)) {
        totals.events++;
        if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) totals.workflowTasks++;
        if (e.eventType === EventType.EVENT_TYPE_TIMER_STARTED) totals.timers++;
        if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED) totals.markers++;
      }
    }
    const per = (n: number) => Math.round((n / workflowIds.length) * 10) / 10;
    return {
      workflows: workflowIds.length,
      events: per(totals.events),
      workflowTasks: per(totals.workflowTasks),
      timers: per(totals.timers),
      markers: per(totals.markers),
    };
  } finally {
    await connection.close();
  }
}
