import { MICROSOFT_DEFAULT_CALENDAR } from '../providers/microsoft/eventMapping';

/** The account's primary calendar: where a link's events go in `calendarMode: primary`. */
export function defaultCalendarOf(provider: 'google' | 'microsoft', accountEmail: string): string {
  // Google: the primary calendar's id is the account's address. Microsoft: `calendar` stands for
  // the mailbox's default calendar (`/me/calendar`).
  return provider === 'google' ? accountEmail : MICROSOFT_DEFAULT_CALENDAR;
}
