import { invalid, notFound, required } from './errors';
import type { Calendar } from './store';

/** One access rule of a calendar (Google's `calendar#aclRule`). */
export interface AclRule {
  id: string;
  role: string;
  scope: { type: string; value?: string };
}

const ROLES = ['none', 'freeBusyReader', 'reader', 'writer', 'owner'];
const SCOPES = ['default', 'user', 'group', 'domain'];

/** Each calendar's rules, beside the calendar (the owner's rule is implicit, as Google lists it). */
export class CalendarAcl {
  private readonly rules = new WeakMap<Calendar, Map<string, AclRule>>();

  list(cal: Calendar): AclRule[] {
    const owner: AclRule = { id: `user:${cal.owner}`, role: 'owner', scope: { type: 'user', value: cal.owner } };
    return [owner, ...(this.rules.get(cal)?.values() ?? [])];
  }

  /** Inserting a rule for a scope that has one already changes its role, as Google does. */
  insert(cal: Calendar, body: { role?: unknown; scope?: { type?: unknown; value?: unknown } }): AclRule {
    if (typeof body.role !== 'string') throw required('Missing role.', 'role');
    if (!ROLES.includes(body.role)) throw invalid('Invalid role.', 'role');
    const type = body.scope?.type;
    if (typeof type !== 'string' || !SCOPES.includes(type)) throw invalid('Invalid scope type.', 'scope.type');
    const value = typeof body.scope?.value === 'string' ? body.scope.value.toLowerCase() : undefined;
    if (type !== 'default' && !value) throw required('Missing scope value.', 'scope.value');
    const rule: AclRule = {
      id: type === 'default' ? 'default' : `${type}:${value}`,
      role: body.role,
      scope: type === 'default' ? { type } : { type, value },
    };
    let rules = this.rules.get(cal);
    if (!rules) this.rules.set(cal, (rules = new Map()));
    rules.set(rule.id, rule);
    return rule;
  }

  delete(cal: Calendar, ruleId: string): void {
    if (!this.rules.get(cal)?.delete(ruleId)) throw notFound();
  }
}

export function aclRuleResource(rule: AclRule, etag: string): object {
  return { kind: 'calendar#aclRule', etag, id: rule.id, role: rule.role, scope: rule.scope };
}
