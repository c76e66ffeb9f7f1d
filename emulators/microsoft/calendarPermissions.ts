import { randomBytes } from 'node:crypto';
import { accessDenied, invalidRequest, itemNotFound } from './errors';
import type { Calendar } from './store';

/** Who a calendar is shared with (Graph's `calendarPermission`). */
export interface CalendarPermission {
  id: string;
  emailAddress: { name?: string; address?: string };
  role: string;
  isRemovable: boolean;
  isInsideOrganization: boolean;
  allowedRoles: string[];
}

const ROLES = [
  'none',
  'freeBusyRead',
  'limitedRead',
  'read',
  'write',
  'delegateWithoutPrivateEventAccess',
  'delegateWithPrivateEventAccess',
  'custom',
];
const ALLOWED = ['none', 'freeBusyRead', 'limitedRead', 'read', 'write'];

/** Each calendar's permissions; "My Organization" (free/busy) is always there and cannot be removed. */
export class CalendarPermissions {
  private readonly byCalendar = new WeakMap<Calendar, Map<string, CalendarPermission>>();

  private of(cal: Calendar): Map<string, CalendarPermission> {
    let perms = this.byCalendar.get(cal);
    if (!perms) {
      const organization: CalendarPermission = {
        id: 'RGVmYXVsdA==',
        emailAddress: { name: 'My Organization' },
        role: 'freeBusyRead',
        isRemovable: false,
        isInsideOrganization: true,
        allowedRoles: ALLOWED,
      };
      this.byCalendar.set(cal, (perms = new Map([[organization.id, organization]])));
    }
    return perms;
  }

  list(cal: Calendar): CalendarPermission[] {
    return [...this.of(cal).values()];
  }

  create(
    cal: Calendar,
    body: { emailAddress?: { address?: unknown; name?: unknown }; role?: unknown; isInsideOrganization?: unknown },
  ): CalendarPermission {
    const address = typeof body.emailAddress?.address === 'string' ? body.emailAddress.address.toLowerCase() : '';
    if (!address.includes('@')) throw invalidRequest('emailAddress.address is required.');
    if (typeof body.role !== 'string' || !ROLES.includes(body.role)) throw invalidRequest('Invalid role.');
    const perms = this.of(cal);
    if ([...perms.values()].some((p) => p.emailAddress.address === address))
      throw invalidRequest('The user is already shared on this calendar.');
    const permission: CalendarPermission = {
      id: randomBytes(18).toString('base64url'),
      emailAddress: { address, name: typeof body.emailAddress?.name === 'string' ? body.emailAddress.name : address },
      role: body.role,
      isRemovable: true,
      isInsideOrganization: body.isInsideOrganization === true,
      allowedRoles: ALLOWED,
    };
    perms.set(permission.id, permission);
    return permission;
  }

  update(cal: Calendar, id: string, body: { role?: unknown }): CalendarPermission {
    const permission = this.of(cal).get(id);
    if (!permission) throw itemNotFound();
    if (typeof body.role !== 'string' || !ROLES.includes(body.role)) throw invalidRequest('Invalid role.');
    permission.role = body.role;
    return permission;
  }

  delete(cal: Calendar, id: string): void {
    const permission = this.of(cal).get(id);
    if (!permission) throw itemNotFound();
    if (!permission.isRemovable) throw accessDenied();
    this.of(cal).delete(id);
  }
}
