/** Shapes shared by the API, the workflows and the activities. Types only: safe in workflow code. */

export type AppointmentStatus = 'scheduled' | 'confirmed' | 'tentative' | 'completed' | 'no_show' | 'cancelled';

/** The whole desired state of one appointment, as the CRM last described it. */
export interface DesiredAppointment {
  tenantId: string;
  appointmentId: string;
  revision: number;
  type: string;
  status: AppointmentStatus;
  /** ISO instants in UTC. */
  start: string;
  end: string;
  timeZone: string;
  title?: string;
  services: string[];
  clientName?: string;
  description?: string;
  location?: string;
  /** IANA time zone of the location: client invitations need it for their DTSTART/DTEND. */
  locationTimeZone?: string;
  /** The client's address for e-mail invitations (iMIP). */
  clientEmail?: string;
  staffIds: string[];
  deleted: boolean;
  // The CRM model's fields: each absent in states from before it, and left out when at its default.
  /** False: switched off, the appointment leaves every remote calendar. */
  syncEnabled?: boolean;
  attendees?: CrmAttendee[];
  /** The entity's own CRM fields, for its type's mapping. */
  fields?: Record<string, string | number | boolean>;
  links?: { client?: string; document?: string };
  attachments?: Array<{ name: string; url: string }>;
  reminders?: Array<{ method: 'popup' | 'email'; minutesBefore: number }>;
  /** Team calendars the appointment belongs to. */
  calendarIds?: string[];
  /** Staff members outside its calendars who see the event in their own calendars (not busy). */
  sharedWithStaffIds?: string[];
  /** Whole days: start and end are midnights in `timeZone` (end exclusive). */
  allDay?: boolean;
  /** A series: the first occurrence is start–end; absent for a single appointment. */
  recurrence?: AppointmentRecurrence;
  /** The API request that set this state, carried to logs and provider calls. Not part of the content. */
  requestId?: string;
  /** ISO instant the API accepted this state: the start of the sync-lag measurement. Not part of the content. */
  acceptedAt?: string;
}

/** A recurring appointment: the RRULE (without `RRULE:`) and its changed or cancelled occurrences. */
export interface AppointmentRecurrence {
  rule: string;
  exceptions?: RecurrenceException[];
}

/**
 * One occurrence that differs from the pattern, named by its local date in the appointment's zone
 * (so a series moved to another time of day keeps it): cancelled, or with its own times or title.
 */
export interface RecurrenceException {
  originalDate: string;
  cancelled?: boolean;
  /** ISO instants in UTC. */
  start?: string;
  end?: string;
  title?: string;
}

/** A CRM user, lead, contact or account taking part, with its e-mail fields in the CRM's order. */
export interface CrmAttendee {
  kind: 'user' | 'lead' | 'contact' | 'account';
  id: string;
  name?: string;
  emails: string[];
  optedOut: boolean;
  accountId?: string;
}

/** A calendar provider's name in the registry (providers/registry.ts), or `email`: the client's e-mail invitation, a target like a calendar. */
export type ProviderName = string;

/** What a target is to the workflow: a remote calendar, or the client's e-mail invitation. */
export type TargetKind = 'calendar' | 'invitation';

/** One remote place an appointment is written to: a connected calendar, or the client's invitation. */
export interface TargetSpec {
  targetKey: string;
  kind: TargetKind;
  provider: ProviderName;
  linkId: string;
  calendarId: string;
  /** Deterministic remote event id: a retry after a lost answer finds the same event. */
  remoteId: string;
}

/** `held`: the link needs re-authorisation; the write waits for the account to be reconnected. */
export type TargetState = 'pending' | 'synced' | 'retrying' | 'failed' | 'removed' | 'held';

export interface TargetStatus extends TargetSpec {
  state: TargetState;
  remoteExists: boolean;
  appliedRevision: number | null;
  /** What the remote copy shows: the live event, or the event marked as cancelled. */
  appliedMode: PushMode | null;
  lastError?: { code: string; message: string };
}

export type PushMode = 'upsert' | 'markCancelled' | 'remove';

export interface TenantSyncSettings {
  /** What a staff calendar shows for a cancelled appointment. */
  cancelledEvents: 'remove' | 'keep';
  /** Whether the tenant has a webhook that wants sync-state changes. */
  notifyCrm: boolean;
  /** Which changes e-mail the client an invitation; absent in histories older than the feature. */
  clientInvitations?: ClientInvitationSwitches;
}

export interface ClientInvitationSwitches {
  enabled: boolean;
  onCreate: boolean;
  onChange: boolean;
  onCancel: boolean;
}

export const defaultTenantSyncSettings: TenantSyncSettings = { cancelledEvents: 'remove', notifyCrm: false };

/** How appointment workflows pace their work; set from configuration by the API at start. */
export interface SyncPolicy {
  /** Quiet period that ends a burst of updates before one remote write. */
  coalesceMs: number;
  /** Longest a burst may postpone the write while updates keep coming. */
  coalesceMaxMs: number;
  /** How long after an appointment ends its workflow waits for late changes before it closes. */
  closeAfterEndMs: number;
  activityMaxAttempts: number;
  activityInitialRetryMs: number;
  activityMaxRetryMs: number;
  /** Longest one remote call may take before Temporal retries it elsewhere (e.g. after a worker crash). */
  activityTimeoutMs: number;
  /** History length at which the workflow continues as new, carrying its state. */
  continueAsNewAfterEvents: number;
  /** A target that failed after all its attempts is tried again this long after, while the workflow lives. */
  failedTargetRetryMs: number;
}
