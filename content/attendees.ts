import type { AttendeeSettings } from '../lib/crmSettings';
import type { CrmAttendee } from '../lib/types';

export interface EventAttendee {
  email: string;
  name?: string;
  /** Outside the tenant's own domains. */
  external: boolean;
}

function isInternal(email: string, domains: string[]): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return domains.some((d) => domain === d || domain.endsWith(`.${d}`));
}

/**
 * Who of an appointment's CRM people attends the remote event: only the kinds the tenant syncs,
 * nobody opted out (a person, or a company with its people), the first `emailsPerPerson` addresses
 * of each, every address once. `exclude` keeps addresses that hear about the event otherwise
 * (the client's own e-mail invitation) from getting a second one.
 */
export function selectAttendees(
  people: CrmAttendee[] | undefined,
  settings: AttendeeSettings,
  exclude: string[] = [],
): EventAttendee[] {
  if (!people?.length || settings.kinds.length === 0) return [];
  const optedOutAccounts = new Set(people.filter((p) => p.kind === 'account' && p.optedOut).map((p) => p.id));
  const seen = new Set(exclude.map((e) => e.toLowerCase()));
  const out: EventAttendee[] = [];
  for (const person of people) {
    if (!settings.kinds.includes(person.kind) || person.optedOut) continue;
    if (person.accountId !== undefined && optedOutAccounts.has(person.accountId)) continue;
    for (const email of person.emails.slice(0, settings.emailsPerPerson)) {
      const key = email.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        email,
        ...(person.name ? { name: person.name } : {}),
        external: !isInternal(email, settings.internalDomains),
      });
    }
  }
  return out;
}
