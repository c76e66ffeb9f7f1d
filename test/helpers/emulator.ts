import { randomUUID } from 'node:crypto';

/** JSON calls to an emulator's control API; `baseUrl` is read at each call (set once it is listening). */
export function controlCall(baseUrl: () => string) {
  return async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/** A form POST (OAuth endpoints), answered with its status and JSON body whatever the status. */
export function formPost(baseUrl: () => string) {
  return async (path: string, fields: Record<string, string>): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: res.status, body: await res.json() };
  };
}

/** Emulator operations of busy-time import (reads and push channels), told apart from sync writes in stats. */
export const IMPORT_OPERATIONS = [
  'events.list',
  'events.instances',
  'events.watch',
  'channels.stop',
  'calendarView.delta',
  'subscriptions.get',
  'subscriptions.update',
  'subscriptions.delete',
];

/** The Google emulator's test-only control and inspection API. */
const json = controlCall(() => process.env.GOOGLE_EMULATOR_URL!);

export interface GoogleEvent {
  id: string;
  status: string;
  summary?: string;
  description?: string;
  location?: string;
  transparency?: string;
  start: { dateTime?: string; date?: string; timeZone?: string };
  end: { dateTime?: string; date?: string; timeZone?: string };
  extendedProperties?: { private?: Record<string, string> };
}

export const googleEmulator = {
  async createUser(prefix = 'staff'): Promise<{ email: string; refreshToken: string }> {
    return json('POST', '/_emulator/users', { email: `${prefix}-${randomUUID().slice(0, 8)}@example.test` });
  },
  /** A user whose second calendar is made the way a user would (calendars.insert): a team calendar's backing. */
  async userWithSecondaryCalendar(
    summary: string,
  ): Promise<{ email: string; refreshToken: string; accessToken: string; calendarId: string }> {
    const user = await json('POST', '/_emulator/users', { email: `office-${randomUUID().slice(0, 8)}@example.test` });
    const created = await fetch(`${process.env.GOOGLE_EMULATOR_URL}/calendar/v3/calendars`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` },
      body: JSON.stringify({ summary, timeZone: 'Europe/Madrid' }),
    });
    return {
      email: user.email,
      refreshToken: user.refreshToken,
      accessToken: user.accessToken,
      calendarId: ((await created.json()) as { id: string }).id,
    };
  },
  /** Every event of the calendar, cancelled ones included (Google remembers deletions). */
  async events(calendarId: string): Promise<GoogleEvent[]> {
    return (await json('GET', `/_emulator/calendars/${encodeURIComponent(calendarId)}/events`)).items;
  },
  /** Who the calendar is shared with: Google's ACL rules (the owner's first). */
  async acl(calendarId: string): Promise<Array<{ id: string; role: string; scope: { type: string; value?: string } }>> {
    return (await json('GET', `/_emulator/calendars/${encodeURIComponent(calendarId)}/acl`)).items;
  },
  /** The account's calendars (primary and secondary). */
  async calendars(email: string): Promise<Array<{ id: string; summary: string; primary: boolean }>> {
    return (await json('GET', `/_emulator/users/${encodeURIComponent(email)}/calendars`)).calendars;
  },
  async liveEvents(calendarId: string): Promise<GoogleEvent[]> {
    return (await this.events(calendarId)).filter((e) => e.status !== 'cancelled');
  },
  async stats(user: string): Promise<{
    writes: number;
    requests: number;
    byOperation: Record<string, { total: number; ok: number; failed: number }>;
  }> {
    return json('GET', `/_emulator/stats?user=${encodeURIComponent(user)}`);
  },
  async resetStats(user: string): Promise<void> {
    await json('POST', `/_emulator/stats/reset?user=${encodeURIComponent(user)}`);
  },
  /** The user's applied event writes, oldest first. */
  async writes(
    user: string,
  ): Promise<Array<{ seq: number; at: number; op: string; eventId?: string; title?: string }>> {
    return (await json('GET', `/_emulator/writes?user=${encodeURIComponent(user)}`)).writes;
  },
  async setFaults(faults: {
    user: string;
    errorRate?: number;
    errorStatuses?: number[];
    latencyMs?: number;
    applyThenFail?: 'never' | 'firstInsert' | 'always' | number;
    retryAfterSeconds?: number;
  }): Promise<void> {
    await json('POST', '/_emulator/faults', faults);
  },
  async clearFaults(user: string): Promise<void> {
    await json('DELETE', `/_emulator/faults?user=${encodeURIComponent(user)}`);
  },
  async revokeUser(email: string): Promise<void> {
    await json('POST', `/_emulator/users/${encodeURIComponent(email)}/revoke`);
  },
  async expireAccessTokens(email: string): Promise<void> {
    await json('POST', `/_emulator/users/${encodeURIComponent(email)}/expire-access-tokens`);
  },
  async forbidCalendar(calendarId: string, forbidden: boolean): Promise<void> {
    await json('POST', `/_emulator/calendars/${encodeURIComponent(calendarId)}/forbid`, { forbidden });
  },
};

/** The Microsoft emulator's control API (HTTPS; globalSetup makes this process trust its CA). */
const msJson = controlCall(() => process.env.MICROSOFT_EMULATOR_URL!);

export interface GraphEvent {
  id: string;
  subject: string;
  body: { contentType: string; content: string };
  showAs: string;
  transactionId: string | null;
  location: { displayName: string };
  /** In the event's own zone (the inspector shows what Outlook shows its owner). */
  start: { dateTime: string; timeZone: string };
  end: { dateTime: string; timeZone: string };
  singleValueExtendedProperties: Array<{ id: string; value: string }>;
}

type MicrosoftFaults = {
  user: string;
  errorRate?: number;
  errorStatuses?: number[];
  latencyMs?: number;
  applyThenFail?: 'never' | 'firstInsert' | 'always' | number;
  retryAfterSeconds?: number;
};
const user = (email: string) => `/_emulator/users/${encodeURIComponent(email)}`;

export const microsoftEmulator = {
  async createUser(
    prefix = 'staff',
  ): Promise<{ id: string; email: string; refreshToken: string; accessToken: string; defaultCalendarId: string }> {
    return msJson('POST', '/_emulator/users', { email: `${prefix}-${randomUUID().slice(0, 8)}@contoso.test` });
  },
  /** Every event in the calendar (`calendar`: the default one). Graph forgets deleted events. */
  async events(email: string, calendarId = 'calendar'): Promise<GraphEvent[]> {
    return (await msJson('GET', `${user(email)}/calendars/${encodeURIComponent(calendarId)}/events`)).items;
  },
  /** Who the calendar is shared with (`calendar`: the default one): Graph's calendarPermissions. */
  async permissions(
    email: string,
    calendarId = 'calendar',
  ): Promise<Array<{ id: string; role: string; isRemovable: boolean; emailAddress: { address?: string } }>> {
    return (await msJson('GET', `${user(email)}/calendars/${encodeURIComponent(calendarId)}/permissions`)).value;
  },
  /** The mailbox's calendars (the default one and secondary ones). */
  async calendars(email: string): Promise<Array<{ id: string; name: string; isDefaultCalendar: boolean }>> {
    return (await msJson('GET', `${user(email)}/calendars`)).calendars;
  },
  /** A calendar the user made in Outlook. */
  async createCalendar(email: string, name: string): Promise<{ id: string; name: string }> {
    return msJson('POST', `${user(email)}/calendars`, { name });
  },
  /** The value of one of calsync's extended properties on an event. */
  tag(event: GraphEvent, name: string): string | undefined {
    return event.singleValueExtendedProperties.find((p) => p.id.endsWith(` Name ${name}`))?.value;
  },
  async deleteInOutlook(email: string, eventId: string, calendarId = 'calendar'): Promise<void> {
    await msJson(
      'DELETE',
      `${user(email)}/calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(eventId)}`,
    );
  },
  async stats(email: string): Promise<{
    writes: number;
    requests: number;
    byOperation: Record<string, { total: number; ok: number; failed: number; byStatus: Record<string, number> }>;
  }> {
    return msJson('GET', `/_emulator/stats?user=${encodeURIComponent(email)}`);
  },
  async resetStats(email: string): Promise<void> {
    await msJson('POST', `/_emulator/stats/reset?user=${encodeURIComponent(email)}`);
  },
  async setFaults(faults: MicrosoftFaults): Promise<void> {
    await msJson('POST', '/_emulator/faults', faults);
  },
  async clearFaults(email: string): Promise<void> {
    await msJson('DELETE', `/_emulator/faults?user=${encodeURIComponent(email)}`);
  },
  async revokeUser(email: string): Promise<void> {
    await msJson('POST', `${user(email)}/revoke`);
  },
  async expireAccessTokens(email: string): Promise<void> {
    await msJson('POST', `${user(email)}/expire-access-tokens`);
  },
  async forbidCalendar(email: string, forbidden: boolean, calendarId = 'calendar'): Promise<void> {
    await msJson('POST', `${user(email)}/calendars/${encodeURIComponent(calendarId)}/forbid`, { forbidden });
  },
};
