import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { AppointmentSyncState } from './syncState';

/** Custom search attributes, so admins can filter workflows in Temporal UI (e.g. CalsyncState="failed"). */
export const CalsyncTenant = defineSearchAttributeKey('CalsyncTenant', SearchAttributeType.KEYWORD);
export const CalsyncEntityId = defineSearchAttributeKey('CalsyncEntityId', SearchAttributeType.KEYWORD);
export const CalsyncState = defineSearchAttributeKey('CalsyncState', SearchAttributeType.KEYWORD);
/** An appointment's staff ids (a list: `CalsyncStaff="anna"` matches any appointment Anna is on). */
export const CalsyncStaff = defineSearchAttributeKey('CalsyncStaff', SearchAttributeType.KEYWORD_LIST);

export const calsyncSearchAttributeNames = [
  'CalsyncTenant',
  'CalsyncEntityId',
  'CalsyncState',
  'CalsyncStaff',
] as const;

/** Each attribute's type as the Temporal CLI's `--search-attribute name=Type` spells it. */
export const calsyncSearchAttributeTypes: Record<
  (typeof calsyncSearchAttributeNames)[number],
  'Keyword' | 'KeywordList'
> = { CalsyncTenant: 'Keyword', CalsyncEntityId: 'Keyword', CalsyncState: 'Keyword', CalsyncStaff: 'KeywordList' };

/** An appointment's overall sync state (lib/syncState.ts), or `closed` once its workflow has ended. */
export type CalsyncStateValue = AppointmentSyncState | 'closed';
