import { Faults, RateLimiter, RateLimitStyle } from './faults';
import { Stats } from './stats';
import { GoogleStore } from './store';

export interface GoogleEmulatorOptions {
  userRateLimitPerMinute?: number;
  rateLimitStyle?: RateLimitStyle;
  accessTokenTtlSeconds?: number;
}

/** Everything the route modules share; one instance per emulator. */
export class EmulatorState {
  readonly store = new GoogleStore();
  readonly faults = new Faults();
  readonly limiter = new RateLimiter();
  readonly stats = new Stats();

  constructor(private readonly defaults: GoogleEmulatorOptions = {}) {
    this.applyDefaults();
  }

  private applyDefaults(): void {
    this.limiter.perMinute = this.defaults.userRateLimitPerMinute ?? 600;
    this.limiter.style = this.defaults.rateLimitStyle ?? '403';
    this.store.accessTokenTtlSeconds = this.defaults.accessTokenTtlSeconds ?? 3600;
  }

  /** Back to a freshly started emulator, configuration included. */
  reset(): void {
    this.store.reset();
    this.faults.clear();
    this.limiter.reset();
    this.stats.reset();
    this.applyDefaults();
  }
}
