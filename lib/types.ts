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
  /** The API request that set this state, carried to logs and provider calls. Not part of the content. */
  requestId?: string;
  /** ISO instant the API accepted this state: the start of the sync-lag measurement. Not part of the content. */
  acceptedAt?: string;
}

/** `email` is the client's e-mail invitation, a target like a calendar. */
export type ProviderName = 'google' | 'microsoft' | 'email';

/** One remote place an appointment is written to: a staff member's connected calendar. */
export interface TargetSpec {
  targetKey: string;
  provider: ProviderName;
  linkId: string;
  calendarId: string;
  /** Deterministic remote event id: a retry after a lost answer finds the same event. */
  remoteId: string;
}

export type TargetState = 'pending' | 'synced' | 'retrying' | 'failed' | 'removed';

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
}
