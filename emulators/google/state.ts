import { EmulatorStateBase } from '../common/state';
import type { GoogleError } from './errors';
import { GoogleChannels } from './channels';
import { googleFaults, RateLimiter, RateLimitStyle } from './faults';
import { GoogleStore } from './store';

export interface GoogleEmulatorOptions {
  userRateLimitPerMinute?: number;
  rateLimitStyle?: RateLimitStyle;
  accessTokenTtlSeconds?: number;
}

/** Everything the route modules share; one instance per emulator. */
export class EmulatorState extends EmulatorStateBase<GoogleStore, GoogleError> {
  readonly limiter = new RateLimiter();
  /** events.watch channels, told about every change the store makes. */
  readonly channels = new GoogleChannels();

  constructor(private readonly defaults: GoogleEmulatorOptions = {}) {
    super(new GoogleStore(), googleFaults());
    this.store.onCalendarChange = (cal) => this.channels.changed(cal);
    this.applyDefaults();
  }

  userExists(email: string): boolean {
    return this.store.users.has(email);
  }

  protected applyDefaults(): void {
    this.limiter.perMinute = this.defaults.userRateLimitPerMinute ?? 600;
    this.limiter.style = this.defaults.rateLimitStyle ?? '403';
    this.store.accessTokenTtlSeconds = this.defaults.accessTokenTtlSeconds ?? 3600;
  }

  protected resetLimits(): void {
    this.limiter.reset();
    this.channels.reset();
  }
}
