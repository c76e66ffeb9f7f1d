import { Counter, Histogram, Registry } from 'prom-client';

/** The worker's Prometheus metrics: one registry per process, served by workers/metrics.ts. */
export const workerRegistry = new Registry();

export const syncAttempts = new Counter({
  name: 'calsync_sync_attempts_total',
  help: 'Attempts to bring one target in step; code is the provider error code ("none" when ok)',
  labelNames: ['provider', 'action', 'result', 'code'],
  registers: [workerRegistry],
});

export const syncRetries = new Counter({
  name: 'calsync_sync_retries_total',
  help: 'Attempts that were retries (attempt > 1)',
  labelNames: ['provider'],
  registers: [workerRegistry],
});

export const providerRequestSeconds = new Histogram({
  name: 'calsync_provider_request_seconds',
  help: 'Time of one request to a calendar provider',
  labelNames: ['provider', 'operation'],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [workerRegistry],
});

export const syncLagSeconds = new Histogram({
  name: 'calsync_sync_lag_seconds',
  help: 'Time from the API accepting a revision to it being applied on a target',
  labelNames: ['provider'],
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
  registers: [workerRegistry],
});

export const reconcileEvents = new Counter({
  name: 'calsync_reconcile_events_total',
  help: "What reconciliation passes found among calsync's events and did about it (outcome: in_step, changed, missing, untagged, in_flight, orphans_removed, restore_requested, drift_recorded)",
  labelNames: ['provider', 'outcome'],
  registers: [workerRegistry],
});
