import type { DateTime } from 'luxon';
import type { Config } from '../lib/config';
import { ProviderError } from './errors';
import * as caldav from './caldav';
import * as google from './google';
import * as microsoft from './microsoft';
import type { ProviderFolder, ProviderModule } from './types';

/**
 * The calendar providers calsync can link. Adding one is a folder under providers/ whose index.ts
 * exports `createProvider` (and `seriesProblem` where it holds less than RRULE), one line here, and
 * its settings in lib/config.ts.
 */
const folders: ProviderFolder[] = [google, microsoft, caldav];

export interface ProviderRegistry {
  /** Every provider, in the order the connect page offers them. */
  all(): ProviderModule[];
  find(name: string): ProviderModule | undefined;
  /** The provider of a link; an unknown name is a permanent `provider_unsupported`, never another provider. */
  get(name: string): ProviderModule;
}

const registries = new WeakMap<Config, ProviderRegistry>();

/** The registry for this process's configuration (made once per configuration object). */
export function providerRegistry(config: Config): ProviderRegistry {
  let registry = registries.get(config);
  if (!registry) {
    const modules = folders.map((folder) => folder.createProvider(config));
    const byName = new Map(modules.map((m) => [m.name, m]));
    registry = {
      all: () => modules,
      find: (name) => byName.get(name),
      get(name) {
        const found = byName.get(name);
        if (!found)
          throw new ProviderError('permanent', 'provider_unsupported', `calendar provider "${name}" is not available`);
        return found;
      },
    };
    registries.set(config, registry);
  }
  return registry;
}

/** The calendars a link imports busy time from: the staff member's choice, or the account's main calendar. */
export function importCalendarsOf(provider: ProviderModule, chosen: string[] | null | undefined): string[] {
  return Array.isArray(chosen) && chosen.length > 0 ? chosen : [provider.defaultImportCalendarId];
}

/** Why some calendar provider could not hold this series (the first that cannot), or undefined: checked before an appointment is accepted. */
export function seriesProblemAnywhere(rule: string, first: DateTime): string | undefined {
  for (const folder of folders) {
    const problem = folder.seriesProblem?.(rule, first);
    if (problem) return problem;
  }
  return undefined;
}
