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
  lifecycleNotificationUrl?: string;
  clientState?: string;
  expirationDateTime: number;
  /** Created with `Prefer: IdType="ImmutableId"`: its notifications name events by immutable id. */
  immutableIds: boolean;
  /** Change notifications are being lost (control API): the next `missed` lifecycle event says so. */
  losing?: boolean;
  /** The timer that sends `reauthorizationRequired` before the subscription expires. */
  reauthTimer?: NodeJS.Timeout;
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

const DEFAULT_MAX_LIFETIME_MINUTES = 10_080;
/** How long before expiry `reauthorizationRequired` is sent (Graph sends it ahead of expiry; the lead is undocumented). */
const DEFAULT_REAUTH_LEAD_MS = 10 * 60_000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Graph requires `notificationUrl` and `lifecycleNotificationUrl` to be HTTPS
 * (https://learn.microsoft.com/graph/api/resources/subscription#properties: "Required. The URL of
 * the endpoint that receives the change notifications. This URL must make use of the HTTPS
 * protocol."; https://learn.microsoft.com/graph/change-notifications-delivery-webhooks) and answers
 * 400 otherwise. `allowHttpLoopback` (MS_EMULATOR_ALLOW_HTTP_LOOPBACK=1, set by the test and harness
 * stacks, whose API listens on plain http) relaxes that for loopback addresses only.
 */
function notificationUrlOf(raw: unknown, field: string, allowHttpLoopback: boolean): URL {
  let url: URL | undefined;
  try {
    url = typeof raw === 'string' ? new URL(raw) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) throw invalidRequest(`${field} is required and must be an absolute URL.`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowHttpLoopback && LOOPBACK_HOSTS.has(url.hostname)) return url;
  throw new GraphError(400, 'ValidationError', `The ${field} must use the HTTPS protocol.`);
}
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
  readonly reauthLeadMs = DEFAULT_REAUTH_LEAD_MS;

  constructor(
    private readonly ids: ItemIds,
    private readonly allowHttpLoopback = false,
  ) {}

  /** Graph validates each URL of a new subscription: POST `?validationToken=…`, echoed as text/plain with a 200 within 10 s. */
  private async validate(target: URL): Promise<void> {
    const validationToken = `Validation: ${randomUUID()}`;
    const url = new URL(target);
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
  }

  /**
   * Sends `reauthorizationRequired` `reauthLeadMs` before expiry, or halfway through a life shorter
   * than that (never a storm of them for a short subscription), when it has a lifecycle URL.
   */
  private scheduleReauthorization(sub: Subscription): void {
    clearTimeout(sub.reauthTimer);
    if (!sub.lifecycleNotificationUrl) return;
    const remaining = sub.expirationDateTime - Date.now();
    const due = Math.max(remaining - this.reauthLeadMs, remaining / 2);
    sub.reauthTimer = setTimeout(() => {
      if (this.subscriptions.get(sub.id) === sub) void this.lifecycle(sub.id, 'reauthorizationRequired');
    }, due);
    sub.reauthTimer.unref();
  }

  /**
   * A lifecycle notification (https://learn.microsoft.com/graph/change-notifications-lifecycle-events):
   * `subscriptionRemoved` drops the subscription first; `missed` ends a spell of lost notifications.
   * False when the subscription is unknown or has no lifecycle URL.
   */
  async lifecycle(id: string, event: LifecycleEvent): Promise<boolean> {
    const sub = this.subscriptions.get(id);
    if (!sub?.lifecycleNotificationUrl) return false;
    if (event === 'subscriptionRemoved') {
      clearTimeout(sub.reauthTimer);
      this.subscriptions.delete(id);
    }
    if (event === 'missed') sub.losing = false;
    const text = JSON.stringify({
      value: [
        {
          subscriptionId: sub.id,
          subscriptionExpirationDateTime: new Date(sub.expirationDateTime).toISOString(),
          tenantId: TENANT_ID,
          ...(sub.clientState !== undefined ? { clientState: sub.clientState } : {}),
          lifecycleEvent: event,
        },
      ],
    });
    await this.notifier.post(sub.lifecycleNotificationUrl, { 'content-type': 'application/json' }, text);
    return true;
  }

  /** Control API: change notifications of this subscription are lost until a `missed` event is sent. */
  loseNotifications(id: string): boolean {
    const sub = this.subscriptions.get(id);
    if (!sub) return false;
    sub.losing = true;
    return true;
  }

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
    const notificationUrl = notificationUrlOf(body.notificationUrl, 'notificationUrl', this.allowHttpLoopback);
    const lifecycleNotificationUrl =
      body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null
        ? undefined
        : notificationUrlOf(body.lifecycleNotificationUrl, 'lifecycleNotificationUrl', this.allowHttpLoopback);
    if (typeof body.changeType !== 'string' || body.changeType === '') throw invalidRequest('changeType is required.');
    if (body.clientState !== undefined && (typeof body.clientState !== 'string' || body.clientState.length > 128))
      throw invalidRequest('clientState must be at most 128 characters.');
    const expirationDateTime = this.expiration(body.expirationDateTime);
    await this.validate(notificationUrl);
    if (lifecycleNotificationUrl) await this.validate(lifecycleNotificationUrl);
    const sub: Subscription = {
      id: randomUUID(),
      owner: owner.email,
      resource,
      ...scope,
      changeTypes: body.changeType.split(',').map((t) => t.trim()),
      notificationUrl: notificationUrl.href,
      ...(lifecycleNotificationUrl ? { lifecycleNotificationUrl: lifecycleNotificationUrl.href } : {}),
      ...(typeof body.clientState === 'string' ? { clientState: body.clientState } : {}),
      expirationDateTime,
      immutableIds,
    };
    this.subscriptions.set(sub.id, sub);
    this.scheduleReauthorization(sub);
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
    this.scheduleReauthorization(sub);
    return this.render(sub);
  }

  /** POST /subscriptions/{id}/reauthorize (https://learn.microsoft.com/graph/api/subscription-reauthorize): 204. */
  reauthorize(owner: string, id: string): void {
    this.scheduleReauthorization(this.own(owner, id));
  }

  remove(owner: string, id: string): void {
    clearTimeout(this.own(owner, id).reauthTimer);
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
      if (sub.losing) continue;
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
    for (const sub of this.subscriptions.values()) clearTimeout(sub.reauthTimer);
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
      lifecycleNotificationUrl: sub.lifecycleNotificationUrl ?? null,
      expirationDateTime: new Date(sub.expirationDateTime).toISOString(),
      creatorId: sub.owner,
      latestSupportedTlsVersion: 'v1_2',
    };
  }
}
