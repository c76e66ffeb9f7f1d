import { ensureImportPush, importBusyTime } from './busyImport';
import { deleteLinkCalendar, provisionCalendar } from './calendars';
import { sendClientInvitation } from './clientInvitation';
import type { ActivityDeps } from './deps';
import { pushToTarget, type PushInput } from './push';
import { appointmentsOnLink, futureAppointmentsPage, heldAppointmentsPage, keepTokenFresh, retireLink } from './links';
import { beginReconcilePass, failReconcilePass, finishReconcilePass, reconcilePage } from './reconcile';
import { countFailures, nextFailedAppointments, resyncAppointments } from './replay';
import { planTargets, recordWarnings } from './targets';
import { shareTeamCalendar } from './teamCalendarSharing';
import { deliverWebhook } from './webhooks';
import { countResyncAppointments, resyncAppointmentsPage } from './settingsResync';

/** The activities a worker registers, bound to that worker's database, keys and configuration. */
export function createActivities(deps: ActivityDeps) {
  return {
    planTargets: (input: Parameters<typeof planTargets>[1]) => planTargets(deps, input),
    pushToTarget: (input: PushInput) => pushToTarget(deps, input),
    sendClientInvitation: (input: PushInput) => sendClientInvitation(deps, input),
    recordWarnings: (input: Parameters<typeof recordWarnings>[1]) => recordWarnings(deps, input),
    countFailures: (input: Parameters<typeof countFailures>[1]) => countFailures(deps, input),
    nextFailedAppointments: (input: Parameters<typeof nextFailedAppointments>[1]) =>
      nextFailedAppointments(deps, input),
    resyncAppointments: (input: Parameters<typeof resyncAppointments>[1]) => resyncAppointments(deps, input),
    shareTeamCalendar: (input: Parameters<typeof shareTeamCalendar>[1]) => shareTeamCalendar(deps, input),
    deliverWebhook: (input: Parameters<typeof deliverWebhook>[1]) => deliverWebhook(deps, input),
    futureAppointmentsPage: (input: Parameters<typeof futureAppointmentsPage>[1]) =>
      futureAppointmentsPage(deps, input),
    appointmentsOnLink: (input: Parameters<typeof appointmentsOnLink>[1]) => appointmentsOnLink(deps, input),
    countResyncAppointments: (input: Parameters<typeof countResyncAppointments>[1]) =>
      countResyncAppointments(deps, input),
    resyncAppointmentsPage: (input: Parameters<typeof resyncAppointmentsPage>[1]) =>
      resyncAppointmentsPage(deps, input),
    retireLink: (input: Parameters<typeof retireLink>[1]) => retireLink(deps, input),
    importBusyTime: (input: Parameters<typeof importBusyTime>[1]) => importBusyTime(deps, input),
    ensureImportPush: (input: Parameters<typeof ensureImportPush>[1]) => ensureImportPush(deps, input),
    beginReconcilePass: (input: Parameters<typeof beginReconcilePass>[1]) => beginReconcilePass(deps, input),
    reconcilePage: (input: Parameters<typeof reconcilePage>[1]) => reconcilePage(deps, input),
    finishReconcilePass: (input: Parameters<typeof finishReconcilePass>[1]) => finishReconcilePass(deps, input),
    failReconcilePass: (input: Parameters<typeof failReconcilePass>[1]) => failReconcilePass(deps, input),
    heldAppointmentsPage: (input: Parameters<typeof heldAppointmentsPage>[1]) => heldAppointmentsPage(deps, input),
    keepTokenFresh: (input: Parameters<typeof keepTokenFresh>[1]) => keepTokenFresh(deps, input),
    provisionCalendar: (input: Parameters<typeof provisionCalendar>[1]) => provisionCalendar(deps, input),
    deleteLinkCalendar: (input: Parameters<typeof deleteLinkCalendar>[1]) => deleteLinkCalendar(deps, input),
  };
}

export type CalsyncActivities = ReturnType<typeof createActivities>;
