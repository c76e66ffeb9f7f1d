import {
  condition,
  defineSignal,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { CalsyncState } from '../../lib/searchAttributes';

/** Local activities of the floor workflow: nothing but the SDK's own work. */
export const activities = {
  async echo(change: { revision: number; body: string }): Promise<{ revision: number }> {
    return { revision: change.revision };
  },
};

export const changeSignal = defineSignal<[{ revision: number; body: string }]>('change');

/**
 * The least a durable workflow per appointment can cost: started by signal-with-start, one workflow
 * task that shows the new state in Temporal UI (a search-attribute upsert) and sets the closing
 * timer, as appointmentSync's create does, but with no lookup and no write of its own.
 */
export async function floorWorkflow(input: { closeAfterMs: number; localActivities?: number }): Promise<void> {
  let revision = 0;
  let body = '';
  setHandler(changeSignal, (change) => {
    revision = Math.max(revision, change.revision);
    body = change.body;
  });
  await condition(() => revision > 0);
  // With `localActivities`: that many local activities in a row that do nothing, each handed the
  // change (as appointmentSync's plan and push are): what the SDK costs per local activity.
  const { echo } = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '10 seconds' });
  for (let i = 0; i < (input.localActivities ?? 0); i++) await echo({ revision, body });
  upsertSearchAttributes([{ key: CalsyncState, value: 'synced' }]);
  await condition(() => false, input.closeAfterMs);
}
