import { GraphError } from './errors';
import { canonicalPropertyId, type StoredEvent } from './eventRules';

/**
 * The slice of OData query options calsync and its tests use on events:
 * `$filter` on single-value extended properties (and `subject eq`), `$expand` of extended
 * properties with their id filter, `$select`, `$top`, `$skip`. Anything else in a `$filter` is a 400,
 * so an unsupported query fails loudly instead of matching everything.
 */
export interface EventQuery {
  filter: (e: StoredEvent) => boolean;
  expandIds?: Set<string>;
  select?: Set<string>;
  top: number;
  skip: number;
}

const badFilter = (detail: string): GraphError =>
  new GraphError(400, 'ErrorInvalidUrlQueryFilter', `The query filter contains one or more invalid nodes. ${detail}`);

/** An OData string literal starting at `pos` (quotes doubled inside): [value, next position]. */
function readLiteral(text: string, pos: number): [string, number] {
  if (text[pos] !== "'") throw badFilter(`A string literal was expected at position ${pos}.`);
  let out = '';
  let i = pos + 1;
  for (;;) {
    if (i >= text.length) throw badFilter('Unterminated string literal.');
    if (text[i] === "'") {
      if (text[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return [out, i + 1];
    }
    out += text[i];
    i += 1;
  }
}

/** `<lhs> eq '<literal>'` clauses joined by `and` (or `or` when asked), from position 0 to the end. */
function readComparisons(text: string, joiner: 'and' | 'or'): Array<{ lhs: string; value: string }> {
  const out: Array<{ lhs: string; value: string }> = [];
  let pos = 0;
  for (;;) {
    const head = /^\s*([A-Za-z_][\w/]*)\s+eq\s+/.exec(text.slice(pos));
    if (!head) throw badFilter(`Expected "<property> eq '<value>'" in "${text}".`);
    const [value, next] = readLiteral(text, pos + head[0].length);
    out.push({ lhs: head[1]!, value });
    const rest = /^\s*(?:(and|or)\s+)?/i.exec(text.slice(next))!;
    pos = next + rest[0].length;
    if (pos >= text.length) return out;
    if (rest[1]?.toLowerCase() !== joiner) throw badFilter(`Only "${joiner}" may join these clauses.`);
  }
}

/** Splits a filter on top-level ` and ` (not inside parentheses or literals). */
function splitTopLevelAnd(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && /^\sand\s/i.test(text.slice(i, i + 5))) {
      parts.push(text.slice(start, i).trim());
      start = i + 5;
      i += 4;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

type ExtendedProperties = Map<string, { value: string }>;

/** `singleValueExtendedProperties/Any(ep: ep/id eq '…' [and ep/value eq '…'])`, or undefined for another clause. */
function extendedPropertyClause(clause: string): ((extended: ExtendedProperties) => boolean) | undefined {
  const any = /^singleValueExtendedProperties\/any\(\s*(\w+)\s*:\s*(.*)\)$/is.exec(clause);
  if (!any) return undefined;
  const variable = any[1]!;
  let id: string | undefined;
  let value: string | undefined;
  for (const c of readComparisons(any[2]!, 'and')) {
    if (c.lhs === `${variable}/id`) id = canonicalPropertyId(c.value);
    else if (c.lhs === `${variable}/value`) value = c.value;
    else throw badFilter(`Unknown property "${c.lhs}" inside any().`);
  }
  if (id === undefined) throw badFilter('An extended property filter needs the property id.');
  return (extended) => {
    const p = extended.get(id!);
    return p !== undefined && (value === undefined || p.value === value);
  };
}

function parseClause(clause: string): (e: StoredEvent) => boolean {
  const extended = extendedPropertyClause(clause);
  if (extended) return (e) => extended(e.extended);
  const [only, ...more] = readComparisons(clause, 'and');
  if (!only || more.length > 0 || only.lhs !== 'subject') throw badFilter(`Unsupported filter "${clause}".`);
  return (e) => e.fields.subject === only.value;
}

export function parseEventQuery(query: Record<string, unknown>): EventQuery {
  const str = (name: string): string | undefined =>
    typeof query[name] === 'string' ? (query[name] as string) : undefined;
  const filterText = str('$filter');
  const clauses = filterText ? splitTopLevelAnd(filterText.trim()).map(parseClause) : [];

  let expandIds: Set<string> | undefined;
  const expand = str('$expand');
  if (expand) {
    const m = /^singleValueExtendedProperties\(\s*\$filter\s*=\s*(.*)\)$/is.exec(expand.trim());
    if (!m) {
      throw new GraphError(
        400,
        'BadRequest',
        `Parsing OData Select and Expand failed: only singleValueExtendedProperties($filter=id eq '…') can be expanded, got "${expand}".`,
      );
    }
    expandIds = new Set(
      readComparisons(m[1]!, 'or').map((c) => {
        if (c.lhs !== 'id') throw badFilter('An expanded extended property is chosen by "id eq".');
        return canonicalPropertyId(c.value);
      }),
    );
  }

  const select = str('$select');
  const top = str('$top') === undefined ? 10 : Number(str('$top'));
  const skip = str('$skip') === undefined ? 0 : Number(str('$skip'));
  if (!Number.isInteger(top) || top < 0 || top > 1000)
    throw new GraphError(400, 'BadRequest', `Invalid $top value "${str('$top')}".`);
  if (!Number.isInteger(skip) || skip < 0)
    throw new GraphError(400, 'BadRequest', `Invalid $skip value "${str('$skip')}".`);
  return {
    filter: (e) => clauses.every((c) => c(e)),
    expandIds,
    select: select
      ? new Set(
          select
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        )
      : undefined,
    top,
    skip,
  };
}

/** `$filter` on calendars: extended-property clauses joined by `and` (how calsync finds its own calendars). */
export function parseCalendarFilter(filterText: string | undefined): (extended: ExtendedProperties) => boolean {
  if (!filterText) return () => true;
  const clauses = splitTopLevelAnd(filterText.trim()).map((clause) => {
    const matcher = extendedPropertyClause(clause);
    if (!matcher) throw badFilter(`Unsupported filter on calendars "${clause}".`);
    return matcher;
  });
  return (extended) => clauses.every((c) => c(extended));
}
