import type { EventResource } from './eventRules';

export type SendUpdates = 'all' | 'externalOnly' | 'none';

/** One e-mail Google would have sent the guests of an event. */
export interface GuestMail {
  at: string;
  calendarId: string;
  eventId: string;
  kind: 'invitation' | 'update' | 'cancellation';
  sendUpdates: SendUpdates;
  to: string[];
}

/**
 * The guest e-mails a write makes Google send: `sendUpdates` decides (none by default for API
 * writes), `externalOnly` mails only guests without a Google account (here: not emulator users).
 * The organizer and the calendar's owner are never mailed. Inspected under /_emulator/.../guest-mail.
 */
export class GuestMailLog {
  private readonly byOwner = new Map<string, GuestMail[]>();

  record(
    owner: string,
    event: EventResource,
    kind: GuestMail['kind'],
    sendUpdates: SendUpdates,
    hasAccount: (email: string) => boolean,
  ): void {
    if (sendUpdates === 'none') return;
    const to = (event.attendees ?? [])
      .filter((a) => !a.self && !a.organizer && typeof a.email === 'string')
      .map((a) => String(a.email))
      .filter((email) => sendUpdates === 'all' || !hasAccount(email));
    if (to.length === 0) return;
    const list = this.byOwner.get(owner) ?? [];
    list.push({
      at: new Date().toISOString(),
      calendarId: event.organizer.email,
      eventId: event.id,
      kind,
      sendUpdates,
      to,
    });
    this.byOwner.set(owner, list);
  }

  of(owner: string): GuestMail[] {
    return this.byOwner.get(owner) ?? [];
  }

  clear(): void {
    this.byOwner.clear();
  }
}
