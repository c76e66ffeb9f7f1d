import { defineQuery } from '@temporalio/workflow';
import type { FailureFilter } from '../../lib/failures';

export interface ReplayFailuresInput {
  tenantId: string;
  filter: FailureFilter;
  /** Appointments handed back to their workflows per second: keeps Temporal and providers calm. */
  ratePerSecond: number;
  carried?: ReplayProgress & { cursor: string | null };
}

export interface ReplayProgress {
  state: 'running' | 'completed';
  total: number;
  replayed: number;
}

export const replayProgressQuery = defineQuery<ReplayProgress>('replayProgress');

export function replayWorkflowId(tenantId: string, replayId: string): string {
  return `replay:${tenantId}:${replayId}`;
}
