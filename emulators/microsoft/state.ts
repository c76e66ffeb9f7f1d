import { EmulatorStateBase } from '../common/state';
import type { GraphError } from './errors';
import { graphFaults, Throttle } from './faults';
import { ChangeLog } from './changes';
import { MicrosoftStore } from './store';
import { ItemIds } from './itemIds';
import { GraphSubscriptions } from './subscriptions';

export interface MicrosoftEmulatorOptions {
  /** Requests a mailbox may make per window before 429 ApplicationThrottled (Graph: 10,000 per 10 minutes). */
  requestsPerWindow?: number;
  windowSeconds?: number;
  /** Requests of one mailbox in flight at once (Graph: 4). */
  concurrencyLimit?: number;
  /** Retry-After of a MailboxConcurrency 429. */
  concurrencyRetryAfterSeconds?: number;
  accessTokenTtlSeconds?: number;
  /**
   * Accept http notification URLs on loopback addresses (Graph takes HTTPS only). Set by the test
   * and harness stacks, whose API listens on plain http; main.ts reads MS_EMULATOR_ALLOW_HTTP_LOOPBACK=1.
   */
  allowHttpLoopback?: boolean;
}

/** Everything the route modules share; one instance per emulator. */
export class EmulatorState extends EmulatorStateBase<MicrosoftStore, GraphError> {
  readonly throttle = new Throttle();
  /** Versions of every event, for calendarView/delta. */
  readonly changes = new ChangeLog();
  /** Event ids in Outlook's default form, which change when an event moves. */
  readonly ids = new ItemIds();
  readonly subscriptions: GraphSubscriptions;

  constructor(private readonly defaults: MicrosoftEmulatorOptions = {}) {
    super(new MicrosoftStore(), graphFaults());
    this.subscriptions = new GraphSubscriptions(this.ids, defaults.allowHttpLoopback ?? false);
    this.store.onEventChange = (cal, before, after) => {
      this.changes.record(cal.id, before, after);
      this.subscriptions.changed(
        cal,
        this.store.mailboxes.get(cal.owner),
        (after ?? before)!.id,
        !before ? 'created' : !after ? 'deleted' : 'updated',
      );
    };
    this.applyDefaults();
  }

  userExists(email: string): boolean {
    return this.store.mailboxes.has(email);
  }

  protected applyDefaults(): void {
    this.throttle.requestsPerWindow = this.defaults.requestsPerWindow ?? 10_000;
    this.throttle.windowSeconds = this.defaults.windowSeconds ?? 600;
    this.throttle.concurrencyLimit = this.defaults.concurrencyLimit ?? 4;
    this.throttle.concurrencyRetryAfterSeconds = this.defaults.concurrencyRetryAfterSeconds ?? 1;
    this.store.accessTokenTtlSeconds = this.defaults.accessTokenTtlSeconds ?? 3600;
  }

  protected resetLimits(): void {
    this.throttle.reset();
    this.changes.reset();
    this.subscriptions.reset();
    this.ids.reset();
  }
}
