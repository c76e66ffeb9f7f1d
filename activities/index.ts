import { sendClientInvitation } from './clientInvitation';
import type { ActivityDeps } from './deps';
import { pushToTarget, type PushInput } from './push';
import { appointmentsOnLink, futureAppointmentsPage, retireLink } from './links';
import { countFailures, nextFailedAppointments, resyncAppointments } from './replay';
import { loadTargetStatuses, planTargets, recordWarnings } from './targets';
import { deliverWebhook } from './webhooks';

/** The activities a worker registers, bound to that worker's database, keys and configuration. */
export function createActivities(deps: ActivityDeps) {
  return {
    planTargets: (input: Parameters<typeof planTargets>[1]) => planTargets(deps, input),
    loadTargetStatuses: (input: Parameters<typeof loadTargetStatuses>[1]) => loadTargetStatuses(deps, input),
    pushToTarget: (input: PushInput) => pushToTarget(deps, input),
    sendClientInvitation: (input: PushInput) => sendClientInvitation(deps, input),
    recordWarnings: (input: Parameters<typeof recordWarnings>[1]) => recordWarnings(deps, input),
    countFailures: (input: Parameters<typeof countFailures>[1]) => countFailures(deps, input),
    nextFailedAppointments: (input: Parameters<typeof nextFailedAppointments>[1]) => nextFailedAppointments(deps, input),
    resyncAppointments: (input: Parameters<typeof resyncAppointments>[1]) => resyncAppointments(deps, input),
    deliverWebhook: (input: Parameters<typeof deliverWebhook>[1]) => deliverWebhook(deps, input),
    futureAppointmentsPage: (input: Parameters<typeof futureAppointmentsPage>[1]) => futureAppointmentsPage(deps, input),
    appointmentsOnLink: (input: Parameters<typeof appointmentsOnLink>[1]) => appointmentsOnLink(deps, input),
    retireLink: (input: Parameters<typeof retireLink>[1]) => retireLink(deps, input),
  };
}

export type CalsyncActivities = ReturnType<typeof createActivities>;
