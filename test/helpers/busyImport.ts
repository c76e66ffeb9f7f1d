import { randomUUID } from 'node:crypto';
import { controlCall } from './emulator';
import { temporalClient, type TenantWorld } from './world';
import { waitUntil } from './api';

/** Edits "by hand" in the emulated calendars (as the staff member would in Google or Outlook), and reading busy time back. */
const google = controlCall(() => process.env.GOOGLE_EMULATOR_URL!);
const microsoft = controlCall(() => process.env.MICROSOFT_EMULATOR_URL!);

export interface LinkedStaff {
  staffId: string;
  email: string;
  linkId: string;
  /** The emulator's access token of the account, to act as the staff member through the provider API. */
  accessToken: string;
}

/** A staff member with a linked account of `provider` whose calendar is in `timeZone`; waits for the first import round. */
export async function linkedStaff(
  world: TenantWorld,
  provider: 'google' | 'microsoft',
  staffId: string,
  timeZone = 'UTC',
): Promise<LinkedStaff> {
  await world.call('PUT', `/v1/staff/${staffId}`, { name: `Staff ${staffId}` });
  const email = `${staffId}-${randomUUID().slice(0, 8)}@${provider === 'google' ? 'example.test' : 'contoso.test'}`;
  const user = await (provider === 'google' ? google : microsoft)('POST', '/_emulator/users', { email, timeZone });
  const link = await world.call('POST', `/v1/staff/${staffId}/links/${provider}`, {
    accountEmail: user.email,
    refreshToken: user.refreshToken,
  });
  if (link.status !== 201) throw new Error(`link: ${link.status} ${JSON.stringify(link.body)}`);
  await world.linkConnected(link.body.id);
  const staff = { staffId, email: user.email, linkId: link.body.id, accessToken: user.accessToken };
  await waitUntil('first import round', async () => (await importProgress(world, staff)).rounds >= 1, 30000, 100);
  return staff;
}

export async function importProgress(
  world: TenantWorld,
  staff: LinkedStaff,
): Promise<{ rounds: number; pushes: number; status: string }> {
  const handle = (await temporalClient()).workflow.getHandle(`import:${world.tenantId}:${staff.linkId}`);
  return handle.query('importProgress');
}

export const googleCalendar = {
  /** Creates the event, or moves/edits it when `id` exists (an edit in Google's UI). */
  upsert: (email: string, event: Record<string, unknown>) =>
    google<{ id: string }>('POST', `/_emulator/calendars/${encodeURIComponent(email)}/events`, event),
  remove: (email: string, id: string) =>
    google('DELETE', `/_emulator/calendars/${encodeURIComponent(email)}/events/${encodeURIComponent(id)}`),
  expireSyncTokens: () => google('POST', '/_emulator/sync-tokens/expire'),
  channels: (email: string) =>
    google<{ channels: Array<{ id: string; expiration: number }> }>(
      'GET',
      `/_emulator/channels?calendarId=${encodeURIComponent(email)}`,
    ),
};

export const outlookCalendar = {
  create: (email: string, event: Record<string, unknown>) =>
    microsoft<{ id: string }>('POST', `/_emulator/users/${encodeURIComponent(email)}/calendars/calendar/events`, event),
  move: (email: string, id: string, patch: Record<string, unknown>) =>
    microsoft(
      'PATCH',
      `/_emulator/users/${encodeURIComponent(email)}/calendars/calendar/events/${encodeURIComponent(id)}`,
      patch,
    ),
  remove: (email: string, id: string) =>
    microsoft(
      'DELETE',
      `/_emulator/users/${encodeURIComponent(email)}/calendars/calendar/events/${encodeURIComponent(id)}`,
    ),
  expireDeltaTokens: () => microsoft('POST', '/_emulator/delta-tokens/expire'),
  subscriptions: (email: string) =>
    microsoft<{ subscriptions: Array<{ id: string; expirationDateTime: string }> }>(
      'GET',
      `/_emulator/subscriptions?user=${encodeURIComponent(email)}`,
    ),
};

export interface BusyAnswer {
  busy: Array<{ start: string; end: string }>;
  intervals: Array<{
    start: string;
    end: string;
    source: string;
    provider?: string;
    showAs?: string;
    allDay?: boolean;
    title?: string;
    appointmentId?: string;
  }>;
}

export async function busy(
  world: TenantWorld,
  staffId: string,
  from: string,
  to: string,
  timeZone = 'UTC',
): Promise<BusyAnswer> {
  const res = await world.call(
    'GET',
    `/v1/staff/${staffId}/busy?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&timeZone=${encodeURIComponent(timeZone)}`,
  );
  if (res.status !== 200) throw new Error(`busy: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Waits until the busy answer satisfies `check`; returns how long that took. */
export async function busyBecomes(
  world: TenantWorld,
  staffId: string,
  from: string,
  to: string,
  check: (b: BusyAnswer) => boolean,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  await waitUntil('busy answer', async () => check(await busy(world, staffId, from, to)), timeoutMs, 100);
  return Date.now() - started;
}

/** A day some days ahead, as `yyyy-mm-dd`. */
export const dayAhead = (days: number): string => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
