/** What one reconciliation pass of a link found and did. No I/O: safe in workflow code. */
export interface ReconcilePassSummary {
  passId: string;
  linkId: string;
  trigger: 'schedule' | 'request';
  state: 'running' | 'completed' | 'failed' | 'skipped';
  detail: string | null;
  /** The tenant setting at the start of the pass: drift restored (true) or only recorded. */
  restore: boolean;
  /** calsync's events listed in the calendar. */
  listed: number;
  inStep: number;
  /** Changed by hand (time, title, place, busy status). */
  changed: number;
  /** Deleted by hand: the appointment's event was not among calsync's events. */
  missing: number;
  restoreRequested: number;
  driftRecorded: number;
  orphansRemoved: number;
  /** In step but without the owner tag (written before calsync tagged its events): rewritten with it. */
  untagged: number;
  /** Events whose target was being written during the pass: left to the appointment workflow. */
  inFlight: number;
  pages: number;
  /** The team calendars (by id) the pass covered besides the link's own calendar. */
  teamCalendars: string[];
  startedAt: string;
  finishedAt: string | null;
}

/** A remote calendar a link's pass covers: the link's own, or a team calendar the link backs. */
export interface PassCalendar {
  calendarId: string;
  targetKey: string;
  teamCalendarId?: string;
}

/** A `reconcile_passes` row. */
export interface PassRow {
  id: string;
  tenant_id: string;
  link_id: string;
  target_key: string;
  trigger: 'schedule' | 'request';
  state: ReconcilePassSummary['state'];
  detail: string | null;
  restore: boolean;
  listed: number;
  in_step: number;
  changed: number;
  missing: number;
  restore_requested: number;
  drift_recorded: number;
  orphans_removed: number;
  untagged: number;
  in_flight: number;
  pages: number;
  /** Fixed when the pass begins; null in passes begun before team calendars were covered. */
  calendars: PassCalendar[] | null;
  started_at: Date;
  finished_at: Date | null;
}

/** A pass row as the API and the workflow show it. */
export function passSummary(row: PassRow): ReconcilePassSummary {
  return {
    passId: row.id,
    linkId: row.link_id,
    trigger: row.trigger,
    state: row.state,
    detail: row.detail,
    restore: row.restore,
    listed: row.listed,
    inStep: row.in_step,
    changed: row.changed,
    missing: row.missing,
    restoreRequested: row.restore_requested,
    driftRecorded: row.drift_recorded,
    orphansRemoved: row.orphans_removed,
    untagged: row.untagged,
    inFlight: row.in_flight,
    pages: row.pages,
    teamCalendars: (row.calendars ?? []).flatMap((c) => (c.teamCalendarId ? [c.teamCalendarId] : [])),
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  };
}
