import { randomUUID } from 'node:crypto';
import { Notifier } from '../common/notifier';
import { GraphError, invalidRequest, itemNotFound } from './errors';
import type { ItemIds } from './itemIds';
import type { Calendar, Mailbox } from './store';

interface Subscription {
  id: string;
  owner: string;
  resource: string;
  /** undefined: every calendar of the mailbox (`me/events`); `default`; or a calendar id. */
  calendar?: string;
  changeTypes: string[];
  notificationUrl: string;
  clientState?: string;
  expirationDateTime: number;
  /** Created with `Prefer: IdType="ImmutableId"`: its notifications name events by immutable id. */
  immutableIds: boolean;
}

const DEFAULT_MAX_LIFETIME_MINUTES = 10_080;
const TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

/** The calendar a subscription's resource names: `me/events`, `me/calendar/events`, `me/calendars/{id}/events`. */
function calendarOfResource(resource: string): { calendar?: string } | undefined {
  const path = resource.replace(/^\/+/, '').replace(/^(me|users\/[^/]+)\//i, '');
  if (/^events$/i.test(path)) return {};
  if (/^calendar\/events$/i.test(path)) return { calendar: 'default' };
  const match = /^calendars\/([^/]+)\/events$/i.exec(path);
  return match ? { calendar: decodeURIComponent(match[1]!) } : undefined;
}

/**
 * Graph change-notification subscriptions on events: validated by the validationToken handshake on
 * create, renewed by PATCHing expirationDateTime, told about changes with a POST per change.
 */
export class GraphSubscriptions {
  readonly notifier = new Notifier();
  private subscriptions = new Map<string, Subscription>();
  maxLifetimeMinutes = DEFAULT_MAX_LIFETIME_MINUTES;

  constructor(private readonly ids: ItemIds) {}

  private expiration(raw: unknown): number {
    const at = typeof raw === 'string' ? Date.parse(raw) : NaN;
    if (Number.isNaN(at)) throw invalidRequest('expirationDateTime is required and must be a valid date.');
    if (at <= Date.now())
      throw new GraphError(400, 'ExtensionError', 'Subscription expiration can only be in the future.');
    if (at > Date.now() + this.maxLifetimeMinutes * 60_000) {
      throw new GraphError(
        400,
        'ExtensionError',
        `Subscription expiration can only be ${this.maxLifetimeMinutes} minutes in the future.`,
      );
    }
    return at;
  }

  async create(owner: Mailbox, body: Record<string, unknown>, immutableIds = false): Promise<object> {
    const resource = typeof body.resource === 'string' ? body.resource : '';
    const scope = calendarOfResource(resource);
    if (!scope) throw invalidRequest(`Resource '${resource}' is not supported.`);
    if (typeof body.notificationUrl !== 'string' || !/^https?:\/\//.test(body.notificationUrl))
      throw invalidRequest('notificationUrl must be an https URL.');
    if (typeof body.changeType !== 'string' || body.changeType === '') throw invalidRequest('changeType is required.');
    if (body.clientState !== undefined && (typeof body.clientState !== 'string' || body.clientState.length > 128))
      throw invalidRequest('clientState must be at most 128 characters.');
    const expirationDateTime = this.expiration(body.expirationDateTime);
    // The validation handshake: the endpoint must echo the token, as text/plain, with a 200.
    const validationToken = `Validation: ${randomUUID()}`;
    const url = new URL(body.notificationUrl);
    url.searchParams.set('validationToken', validationToken);
    const echoed = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (res) => (res.status === 200 ? res.text() : undefined))
      .catch(() => undefined);
    if (echoed !== validationToken) {
      throw new GraphError(
        400,
        'ValidationError',
        'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
      );
    }
    const sub: Subscription = {
      id: randomUUID(),
      owner: owner.email,
      resource,
      ...scope,
      changeTypes: body.changeType.split(',').map((t) => t.trim()),
      notificationUrl: body.notificationUrl,
      ...(typeof body.clientState === 'string' ? { clientState: body.clientState } : {}),
      expirationDateTime,
      immutableIds,
    };
    this.subscriptions.set(sub.id, sub);
    return this.render(sub);
  }

  private own(owner: string, id: string): Subscription {
    const sub = this.subscriptions.get(id);
    if (!sub || sub.owner !== owner || sub.expirationDateTime <= Date.now()) throw itemNotFound();
    return sub;
  }

  get(owner: string, id: string): object {
    return this.render(this.own(owner, id));
  }

  renew(owner: string, id: string, body: Record<string, unknown>): object {
    const sub = this.own(owner, id);
    sub.expirationDateTime = this.expiration(body.expirationDateTime);
    return this.render(sub);
  }

  remove(owner: string, id: string): void {
    this.own(owner, id);
    this.subscriptions.delete(id);
  }

  changed(
    cal: Calendar,
    mailbox: Mailbox | undefined,
    eventId: string,
    changeType: 'created' | 'updated' | 'deleted',
  ): void {
    for (const sub of this.subscriptions.values()) {
      if (sub.owner !== cal.owner || !sub.changeTypes.includes(changeType)) continue;
      if (sub.expirationDateTime <= Date.now()) {
        this.subscriptions.delete(sub.id);
        continue;
      }
      if (sub.calendar === 'default' ? !cal.isDefault : sub.calendar !== undefined && sub.calendar !== cal.id) continue;
      const resource = `Users/${mailbox?.id ?? cal.owner}/Events/${eventId}`;
      const text = JSON.stringify({
        value: [
          {
            subscriptionId: sub.id,
            subscriptionExpirationDateTime: new Date(sub.expirationDateTime).toISOString(),
            changeType,
            resource,
            resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': resource, id: eventId },
            ...(sub.clientState !== undefined ? { clientState: sub.clientState } : {}),
            tenantId: TENANT_ID,
          },
        ],
      });
      void this.notifier.post(
        sub.notificationUrl,
        { 'content-type': 'application/json' },
        sub.immutableIds ? text : this.ids.toRegular(text),
      );
    }
  }

  live(owner?: string): object[] {
    return [...this.subscriptions.values()]
      .filter((s) => s.expirationDateTime > Date.now() && (!owner || s.owner === owner))
      .map((s) => this.render(s));
  }

  reset(): void {
    this.subscriptions.clear();
    this.maxLifetimeMinutes = DEFAULT_MAX_LIFETIME_MINUTES;
    this.notifier.reset();
  }

  private render(sub: Subscription): object {
    return {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity',
      id: sub.id,
      resource: sub.resource,
      applicationId: '00000000-0000-0000-0000-000000000000',
      changeType: sub.changeTypes.join(','),
      clientState: sub.clientState ?? null,
      notificationUrl: sub.notificationUrl,
      expirationDateTime: new Date(sub.expirationDateTime).toISOString(),
      creatorId: sub.owner,
      latestSupportedTlsVersion: 'v1_2',
    };
  }
}
