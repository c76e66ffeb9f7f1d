import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { AppointmentSyncState } from './syncState';

/** Custom search attributes, so admins can filter workflows in Temporal UI (e.g. CalsyncState="failed"). */
export const CalsyncTenant = defineSearchAttributeKey('CalsyncTenant', SearchAttributeType.KEYWORD);
export const CalsyncEntityId = defineSearchAttributeKey('CalsyncEntityId', SearchAttributeType.KEYWORD);
export const CalsyncState = defineSearchAttributeKey('CalsyncState', SearchAttributeType.KEYWORD);

export const calsyncSearchAttributeNames = ['CalsyncTenant', 'CalsyncEntityId', 'CalsyncState'] as const;

/** An appointment's overall sync state (lib/syncState.ts), or `closed` once its workflow has ended. */
export type CalsyncStateValue = AppointmentSyncState | 'closed';
