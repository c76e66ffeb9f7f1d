import type { ActivityDeps } from './deps';
import { pushToTarget, type PushInput } from './push';
import { loadTargetStatuses, planTargets } from './targets';

/** The activities a worker registers, bound to that worker's database, keys and configuration. */
export function createActivities(deps: ActivityDeps) {
  return {
    planTargets: (input: Parameters<typeof planTargets>[1]) => planTargets(deps, input),
    loadTargetStatuses: (input: Parameters<typeof loadTargetStatuses>[1]) => loadTargetStatuses(deps, input),
    pushToTarget: (input: PushInput) => pushToTarget(deps, input),
  };
}

export type CalsyncActivities = ReturnType<typeof createActivities>;
