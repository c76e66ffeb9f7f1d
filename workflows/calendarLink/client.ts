import type { Client } from '@temporalio/client';
import { CalsyncEntityId, CalsyncState, CalsyncTenant } from '../../lib/searchAttributes';
import { disconnectSignal, linkWorkflowId, reconnectedSignal } from './contract';
import type { calendarLink } from './workflow';

export interface LinkRef {
  tenantId: string;
  linkId: string;
  staffId: string;
  /**
   * Appointments handed to their workflows per second during backfill and cleanup: the provider's
   * figure, below the account's request budget, so the backlog stays short and live changes still get through.
   */
  ratePerSecond?: number;
}

const DEFAULT_BACKFILL_RATE_PER_SECOND = 6;

function startOptions(taskQueue: string, link: LinkRef, onDisconnect: 'remove' | 'keep') {
  return {
    workflowId: linkWorkflowId(link.tenantId, link.linkId),
    taskQueue,
    args: [
      {
        tenantId: link.tenantId,
        linkId: link.linkId,
        staffId: link.staffId,
        ratePerSecond: link.ratePerSecond ?? DEFAULT_BACKFILL_RATE_PER_SECOND,
        onDisconnect,
      },
    ] as Parameters<typeof calendarLink>,
    staticSummary: `calendar link ${link.linkId} of staff ${link.staffId} (tenant ${link.tenantId})`,
    typedSearchAttributes: [
      { key: CalsyncTenant, value: link.tenantId },
      { key: CalsyncEntityId, value: link.linkId },
      { key: CalsyncState, value: 'synced' },
    ],
  };
}

/** A new link's workflow: backfills the staff member's future appointments into the calendar. */
export async function startLinkWorkflow(
  client: Client,
  taskQueue: string,
  link: LinkRef,
  onDisconnect: 'remove' | 'keep' = 'remove',
): Promise<void> {
  await client.workflow.start<typeof calendarLink>('calendarLink', startOptions(taskQueue, link, onDisconnect));
}

/** Disconnect: the link's workflow (started now if it never was) cleans up, revokes and erases. */
export async function requestDisconnect(
  client: Client,
  taskQueue: string,
  link: LinkRef,
  keepEvents: boolean,
): Promise<void> {
  await client.workflow.signalWithStart<typeof calendarLink, [{ keepEvents?: boolean }]>('calendarLink', {
    ...startOptions(taskQueue, link, keepEvents ? 'keep' : 'remove'),
    signal: disconnectSignal,
    signalArgs: [{ keepEvents }],
  });
}

/** The account was connected again: the link's workflow (started now if it is gone) resumes held writes. */
export async function signalReconnected(
  client: Client,
  taskQueue: string,
  link: LinkRef,
  onDisconnect: 'remove' | 'keep' = 'remove',
): Promise<void> {
  await client.workflow.signalWithStart<typeof calendarLink, []>('calendarLink', {
    ...startOptions(taskQueue, link, onDisconnect),
    signal: reconnectedSignal,
    signalArgs: [],
  });
}
