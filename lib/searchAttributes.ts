import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes, so admins can filter workflows in Temporal UI (e.g. CalsyncState="failed"). */
export const CalsyncTenant = defineSearchAttributeKey('CalsyncTenant', SearchAttributeType.KEYWORD);
export const CalsyncEntityId = defineSearchAttributeKey('CalsyncEntityId', SearchAttributeType.KEYWORD);
export const CalsyncState = defineSearchAttributeKey('CalsyncState', SearchAttributeType.KEYWORD);

export const calsyncSearchAttributeNames = ['CalsyncTenant', 'CalsyncEntityId', 'CalsyncState'] as const;

export type CalsyncStateValue = 'pending' | 'synced' | 'retrying' | 'failed' | 'needs_reauth' | 'closed';
