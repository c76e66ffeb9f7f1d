/**
 * Per-tenant templates of an event's title, description and location. Deliberately tiny, not a
 * template language: `{name}` is a field of the appointment (`{fields.x}` one of its CRM fields),
 * `[ … ]` is an optional part, dropped when any field in it is empty, and in a description a line
 * that renders empty is dropped. Values are inserted once and never re-read as template text.
 */

/** Fields every template may name; `fields.<name>` names one of the appointment's own CRM fields. */
export const templateFields = [
  'title',
  'type',
  'clientName',
  'services',
  'status',
  'location',
  'description',
  'clientLink',
  'documentLink',
  'attachments',
] as const;
export type TemplateField = (typeof templateFields)[number];

const TOKEN = /\[([^[\]]*)\]|\{([A-Za-z]+(?:\.[A-Za-z0-9_]{1,64})?)\}/g;
const PLACEHOLDER = /\{([A-Za-z]+(?:\.[A-Za-z0-9_]{1,64})?)\}/g;

export type TemplateValues = (name: string) => string | undefined;

/** The first problem with a template, or undefined: unknown fields and unbalanced brackets. */
export function templateProblem(template: string): string | undefined {
  const stripped = template.replace(TOKEN, '');
  if (/[[\]]/.test(stripped)) return 'has an unbalanced or nested [ ]';
  if (/[{}]/.test(stripped)) return 'has a { } that is not a field such as {clientName} or {fields.siteName}';
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (!name.startsWith('fields.') && !(templateFields as readonly string[]).includes(name)) {
      return `names an unknown field {${name}}; known: ${templateFields.join(', ')}, fields.<name>`;
    }
  }
  return undefined;
}

// Marks where something rendered empty, so a line left with nothing else can be dropped.
const GONE = '\u0000';

function render(template: string, values: TemplateValues): string {
  const value = (n: string) => values(n)?.replaceAll(GONE, '') || undefined;
  return template.replace(TOKEN, (_whole, group: string | undefined, name: string | undefined) => {
    if (name !== undefined) return value(name) ?? GONE;
    const names = [...group!.matchAll(PLACEHOLDER)].map((m) => m[1]!);
    if (names.some((n) => !value(n))) return GONE;
    return group!.replace(PLACEHOLDER, (_p, n: string) => value(n)!);
  });
}

/** A one-line text (title, location): optional parts resolved, whitespace tidied. */
export function renderInline(template: string, values: TemplateValues): string {
  return render(template, values).replaceAll(GONE, '').replace(/\s+/g, ' ').trim();
}

/** A multi-line text: lines left with nothing but empty fields are dropped; an optional part may span lines. */
export function renderBlock(template: string, values: TemplateValues): string {
  const lines = render(template, values)
    .split('\n')
    .filter((line) => !(line.includes(GONE) && line.replaceAll(GONE, '').trim() === ''))
    .map((line) => line.replaceAll(GONE, '').trimEnd());
  return lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
