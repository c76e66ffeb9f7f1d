import type { Faults } from './faults';
import { Stats } from './stats';

/**
 * What the route modules of one emulator share. Subclasses own their limiter and defaults and
 * must call applyDefaults() once their fields exist.
 */
export abstract class EmulatorStateBase<S extends { reset(): void }, E> {
  readonly stats = new Stats();

  constructor(
    readonly store: S,
    readonly faults: Faults<E>,
  ) {}

  abstract userExists(email: string): boolean;
  protected abstract applyDefaults(): void;
  protected abstract resetLimits(): void;

  /** Back to a freshly started emulator, configuration included. */
  reset(): void {
    this.store.reset();
    this.faults.clear();
    this.resetLimits();
    this.stats.reset();
    this.applyDefaults();
  }
}
