import type { DesiredAppointment } from '../lib/types';
import type { EventContent, ObservedEvent } from '../content/types';

export type { EventContent, ObservedEvent, SeriesContent } from '../content/types';

export interface EventRef {
  calendarId: string;
  /** calsync's deterministic id of the appointment on this target: Google's event id; Graph's lookup key. */
  eventId: string;
  /** The id the provider gave the event on an earlier write, where it picks its own ids (Graph). */
  knownRemoteId?: string;
  /** calsync's tag of the appointment (`tenant:appointment`): finds an event whose id was never learned. */
  tag?: string;
  /** On delete: whether the provider tells the event's attendees it is cancelled (Google `sendUpdates`). */
  notifyAttendees?: boolean;
}

export type UpsertOutcome = 'inserted' | 'updated' | 'restored';
export type DeleteOutcome = 'deleted' | 'already_gone';

/** What an upsert did, and the event's id in that calendar (to store and use for later writes). */
export interface UpsertResult {
  outcome: UpsertOutcome;
  remoteId: string;
}

export interface UpsertOptions {
  /** The event is known to exist remotely (an update first, not an insert). */
  believedToExist: boolean;
  /**
   * Told as soon as the event itself is known to exist with this remote id, even when a later step of
   * the same upsert (a series' exceptions) fails: the next attempt then updates instead of inserting.
   */
  onEventExists?: (remoteId: string) => void;
}

/** The small surface every calendar provider offers calsync. */
export interface CalendarProvider {
  upsertEvent(ref: EventRef, content: EventContent, opts: UpsertOptions): Promise<UpsertResult>;
  deleteEvent(ref: EventRef): Promise<DeleteOutcome>;
  /** One page of the events calsync owns in a calendar: those carrying the owner tag with this value. */
  listOwnedEvents(
    calendarId: string,
    owner: string,
    opts: { pageToken?: string; pageSize: number },
  ): Promise<OwnedEventsPage>;
  /** One event by its remote id, as listed; undefined when it is gone (404, 410, or Google's `cancelled`). */
  getEventById(calendarId: string, remoteId: string): Promise<ObservedEvent | undefined>;
  /** Deletes one event by its remote id (an orphan): nothing else is touched, whatever its tags. */
  deleteEventById(calendarId: string, remoteId: string): Promise<DeleteOutcome>;
}

export interface OwnedEventsPage {
  events: ObservedEvent[];
  nextPageToken?: string;
}

export type { DesiredAppointment };

/**
 * The account's calendars, for a link's dedicated calendar: found by name (and, where the provider
 * keeps one, calsync's marker) before one is made, so a retried or repeated provisioning never makes two.
 */
export interface CalendarProvisioning {
  /** calsync's calendar of this name carrying this link's marker: nobody else's calendar is ever taken for it. */
  findCalendar(name: string, marker: string): Promise<string | undefined>;
  /**
   * Makes calsync's calendar, marked with the link's marker (`owned`). Where the provider refuses a
   * second calendar of that name and the one there is not this link's, that one is used without
   * owning it: calsync then removes only its events from it, never the calendar.
   */
  createCalendar(name: string, marker: string): Promise<{ calendarId: string; owned: boolean }>;
  /** Deletes the calendar only when it carries this link's marker (read again first); otherwise `not_ours`. */
  deleteCalendar(calendarId: string, marker: string): Promise<DeleteOutcome | 'not_ours'>;
}

/** Access a team calendar's member gets: read its events, or also change them. */
export type ShareRole = 'read' | 'write';

/** One person a calendar is shared with, as the provider lists it (`other`: a role calsync does not give). */
export interface CalendarShare {
  id: string;
  email: string;
  role: ShareRole | 'other';
}

/** Sharing a calendar with people (Google ACL rules, Graph calendarPermissions), without mailing them. */
export interface CalendarSharing {
  listShares(calendarId: string): Promise<CalendarShare[]>;
  /** Shares with `email`, or changes the role of its existing share `existingId`. */
  share(calendarId: string, email: string, role: ShareRole, existingId?: string): Promise<void>;
  unshare(calendarId: string, shareId: string): Promise<void>;
}

/** What a dedicated calendar's description says (Google keeps one): calsync made it and may delete it. */
export const DEDICATED_CALENDAR_MARKER =
  'Appointments kept in step by calsync. Removing the connection removes this calendar.';

/** The description of a link's dedicated calendar where the provider keeps one: the notice and the link's marker. */
export function dedicatedCalendarDescription(marker: string): string {
  return `${DEDICATED_CALENDAR_MARKER}\n\ncalsync calendar ${marker}`;
}

/** The account's share of the provider's request limits that calsync allows itself (configuration). */
export interface AccountBudget {
  perMinute: number;
  burst: number;
}

/** What a provider needs to act as one account for one piece of work. */
export interface ProviderSession {
  accessToken: string;
  /** Awaited before each remote request: the account's request budget, shared across workers. */
  pace: () => Promise<void>;
  /** Sent with each request where the provider allows it, to match provider-side traces to the API request. */
  requestId?: string;
  timeoutMs?: number;
  /** Told how long each remote request took (metrics). */
  onRequest?: (operation: string, seconds: number) => void;
}

/** Access for a while, from the lasting grant; a provider that rotates grants answers the new one. */
export interface AccessGrant {
  accessToken: string;
  expiresAt: Date;
  refreshToken?: string;
}

/** Consent by OAuth 2.0 (authorization code + PKCE): the provider's half of the connect flow. */
export interface OAuthConsent {
  /** Where the browser goes to consent. */
  authorizeUrl(input: { redirectUri: string; state: string; codeChallenge: string }): string;
  /**
   * Redeems the code and reads the account's address. Throws ConnectFailure (providers/oauth.ts)
   * with what the person in the browser should be told.
   */
  exchangeCode(input: {
    code: string;
    codeVerifier: string;
    redirectUri: string;
  }): Promise<{ refreshToken: string; accountEmail: string }>;
}

/** A server the credentials form offers by name (iCloud, Fastmail, Nextcloud); `custom` takes a typed URL. */
export interface CredentialsPreset {
  id: string;
  label: string;
  /** Empty for `custom` (the person types it); Nextcloud's carries `{host}` for the person's server. */
  serverUrl: string;
  /** Where the provider explains app-specific passwords (shown beside the password field). */
  passwordHelpUrl?: string;
}

/**
 * Consent by a username and an (app-specific) password checked against the server, for systems with
 * no OAuth (CalDAV). The connect page renders a form for it that posts to
 * `POST /connect/credentials/<provider>` with the fields `csrf`, `staffId`, `preset`, `serverUrl`,
 * `username`, `password`; the API takes the same as JSON at `POST /v1/staff/:id/links/<provider>`.
 */
export interface CredentialsConsent {
  presets: CredentialsPreset[];
  /**
   * Checks the credentials against the server before anything is stored. Throws ConnectFailure
   * (providers/errors.ts) saying what is wrong (wrong password, no calendar server at that URL).
   * Answers the account's address and the lasting secret calsync seals in place of a refresh token.
   */
  verify(input: { serverUrl: string; username: string; password: string }): Promise<{
    accountEmail: string;
    secret: string;
  }>;
}

/** One push notification as the provider sent it: which channel, its secret, and what it means. */
export interface PushNotice {
  channelId: string;
  /** The channel's secret as the notification carries it (compared with the stored hash by the caller). */
  secret?: string;
  /** False for a channel's first "hello" message: nothing changed yet. */
  changed: boolean;
  /** The provider dropped the channel: it is made again at once, and a full pass covers what was missed. */
  channelRemoved?: boolean;
  /** The provider asks for the channel to be renewed now, or it stops delivering. */
  renewChannel?: boolean;
  /** Notifications were lost: only a full pass of the channel's calendar is sure to see every change. */
  fullPassNeeded?: boolean;
}

/** What a request to the provider's webhook is: a handshake to answer as given, or notices. */
export type PushRequest =
  | { kind: 'handshake'; status: number; contentType: string; body: string }
  | { kind: 'notices'; notices: PushNotice[]; ackStatus: number };

/** Change notifications for busy-time import (Google channels, Graph subscriptions). */
export interface PushNotifications {
  /** The life calsync asks for a new channel. */
  channelLifetimeMs: number;
  /** Reads a webhook request; nothing here is trusted until the caller checks each notice's secret. */
  parse(request: {
    header(name: string): string | undefined;
    query: Record<string, unknown>;
    body: unknown;
  }): PushRequest;
}

export type CalendarApi = CalendarProvider & CalendarProvisioning;

/**
 * Everything calsync knows about one remote calendar system, behind one shape. A capability the
 * system lacks (sharing, busy-time import, push, OAuth consent) is left out, and callers answer
 * `provider_unsupported` instead of failing. The heavy client libraries load on first use.
 */
export interface ProviderModule {
  /** The name stored on links and used in URLs (`/oauth/callback/<name>`, `/webhooks/<name>`). */
  name: string;
  /** As people know it: "Google", "Microsoft". */
  displayName: string;
  /** The colour of the provider's mark on the connect page (`#rrggbb`, white text on it must read: 4.5:1). */
  brandColor?: string;
  calendar(session: ProviderSession): Promise<CalendarApi>;
  sharing?(session: ProviderSession): Promise<CalendarSharing>;
  busy?(session: ProviderSession): Promise<import('./busyTypes').BusyReader>;
  /** A fresh access token from the lasting grant; a dead grant is a ProviderError of kind `auth`. */
  refreshAccess(refreshToken: string): Promise<AccessGrant>;
  /** Revokes the lasting grant at the provider, where it has a way to. */
  revoke?(refreshToken: string): Promise<void>;
  oauth?: OAuthConsent;
  /** Consent by username and password instead of OAuth (CalDAV); a module has `oauth` or this. */
  credentials?: CredentialsConsent;
  push?: PushNotifications;
  /** Requests per minute (and burst) per account, shared by writes, reads and reconciliation. */
  pacing: AccountBudget;
  /** Appointments handed to their workflows per second when a link backfills: below the pacing. */
  backfillRatePerSecond: number;
  /** The account's main calendar: where events go in `calendarMode: primary`. */
  defaultCalendarId(accountEmail: string): string;
  /** The calendar busy time is imported from when the staff member chose none. */
  defaultImportCalendarId: string;
  /** The provider keeps calsync's deterministic id as the event id (it takes client-chosen ids). */
  takesEventIds: boolean;
}

/**
 * What a provider's folder exports (its index.ts): the module, made from calsync's configuration,
 * and what the provider knows without any configuration.
 */
export interface ProviderFolder {
  createProvider(config: import('../lib/config').Config): ProviderModule;
  /** Why the provider cannot hold this RRULE for a series starting at `first` (wall-clock in its zone). */
  seriesProblem?(rule: string, first: import('luxon').DateTime): string | undefined;
}
