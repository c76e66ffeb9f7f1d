/**
 * The CRM model's tenant settings (entity types, attendees, event content) with their defaults.
 * Stored in `tenants.settings` (jsonb) like every other setting; read by the API, the planner and
 * the push activity. Types and pure functions only.
 */

export const attendeeKinds = ['user', 'lead', 'contact', 'account'] as const;
export type AttendeeKind = (typeof attendeeKinds)[number];

export interface ReminderSetting {
  method: 'popup' | 'email';
  minutesBefore: number;
}

/** One kind of CRM entity that becomes calendar events: switchable, with its own field mapping. */
export interface EntityTypeSettings {
  /** Shown as the event's type (`{type}` in templates). */
  label?: string;
  /** Off: entities of this type leave (and stay out of) every remote calendar. */
  sync: boolean;
  /** Templates that override the tenant's for this type (see content/template.ts). */
  title?: string;
  description?: string;
  location?: string;
}

export interface AttendeeSettings {
  /** Which kinds of CRM entity become attendees of the remote event; none by default. */
  kinds: AttendeeKind[];
  /** How many of a person's e-mail addresses are used, in the order the CRM sends them. */
  emailsPerPerson: number;
  /** Whether attendees outside `internalDomains` hear about the event from the provider. */
  notifyExternal: boolean;
  /** The tenant's own e-mail domains: everyone else is external. */
  internalDomains: string[];
}

export interface EventContentSettings {
  title?: string;
  description?: string;
  /** `busy`: the remote event says only "Busy" (no client, no attendees, no links). */
  privacy: 'full' | 'busy';
  /** Reminders of appointments that do not bring their own; none: the calendar's defaults. */
  reminders?: ReminderSetting[];
}

export interface CrmSettings {
  entityTypes: Record<string, EntityTypeSettings>;
  attendees: AttendeeSettings;
  eventContent: EventContentSettings;
}

/** Present for every tenant, switchable and re-mappable like declared ones. */
export const builtInEntityTypes: Record<string, EntityTypeSettings> = {
  appointment: { label: 'Appointment', sync: true },
  service_activity: { label: 'Service activity', sync: true },
};

export const defaultAttendeeSettings: AttendeeSettings = {
  kinds: [],
  emailsPerPerson: 1,
  notifyExternal: false,
  internalDomains: [],
};

/** The settings as the tenant stored them, with every default filled in. */
export function resolveCrmSettings(stored: Record<string, any> | undefined): CrmSettings {
  const declared = (stored?.entityTypes ?? {}) as Record<string, Partial<EntityTypeSettings>>;
  const entityTypes: Record<string, EntityTypeSettings> = {};
  for (const [name, base] of Object.entries(builtInEntityTypes)) entityTypes[name] = { ...base, ...declared[name] };
  for (const [name, type] of Object.entries(declared))
    entityTypes[name] = Object.assign({ sync: true }, builtInEntityTypes[name], type);
  return {
    entityTypes,
    attendees: { ...defaultAttendeeSettings, ...(stored?.attendees ?? {}) },
    eventContent: { privacy: 'full', ...(stored?.eventContent ?? {}) },
  };
}

/**
 * Whether an entity type is synced. A type the tenant never declared syncs with the default
 * mapping, as every type did before entity types could be declared.
 */
export function entityTypeSyncs(settings: CrmSettings, type: string): boolean {
  return settings.entityTypes[type]?.sync ?? true;
}

/** Settings whose change alters what existing events should look like (or whether they exist). */
export const contentSettingKeys = ['entityTypes', 'attendees', 'eventContent', 'cancelledEvents'] as const;

/** Below Google's 600 requests per minute per user even when every appointment is in one calendar. */
export const DEFAULT_RESYNC_RATE_PER_SECOND = 8;

/**
 * What a settings change asks of existing appointments: nothing, those of some entity types (only
 * their settings changed), or all of them.
 */
export function resyncScopeOf(
  before: Record<string, any>,
  after: Record<string, any>,
): { types?: string[] } | undefined {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const changed = contentSettingKeys.filter((key) => !same(before[key], after[key]));
  if (changed.length === 0) return undefined;
  if (changed.length > 1 || changed[0] !== 'entityTypes') return {};
  const [was, now] = [resolveCrmSettings(before).entityTypes, resolveCrmSettings(after).entityTypes];
  const types = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((t) => !same(was[t], now[t]));
  return types.length ? { types: types.sort() } : undefined;
}
