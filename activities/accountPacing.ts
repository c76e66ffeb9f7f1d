import { ProviderError } from '../providers/errors';
import type { AccountBudget } from '../providers/types';
import type { ActivityDeps } from './deps';

/** How long one request may wait for its slot inside an activity (its timeout is longer). */
const MAX_WAIT_MS = 15_000;

/**
 * Reserves the account's next request slot and waits for it: a generic cell rate algorithm, so at
 * most `perMinute` requests start per minute on average, and up to `burst` may start at once when the
 * account has been quiet (a write right after an import read does not wait). The reservation is one
 * row update in PostgreSQL, so every worker process shares the account's budget. A slot further away
 * than MAX_WAIT_MS (or the caller's bound) is not taken: the attempt ends as retryable with that delay (Temporal's next
 * attempt), rather than sitting out its timeout.
 */
export async function paceAccount(
  deps: ActivityDeps,
  accountKey: string,
  budget: AccountBudget,
  maxWaitMs = MAX_WAIT_MS,
): Promise<void> {
  if (!(budget.perMinute > 0)) return;
  const intervalMs = 60_000 / budget.perMinute;
  const toleranceMs = Math.max(0, budget.burst - 1) * intervalMs;
  // next_at is the theoretical arrival time of the next request; it may run ahead of now by the tolerance.
  const { rows } = await deps.db.raw(
    `insert into account_pacing as p (account_key, next_at) values (?, clock_timestamp() + (? * interval '1 millisecond'))
     on conflict (account_key) do update
       set next_at = greatest(p.next_at, clock_timestamp()) + (? * interval '1 millisecond')
       where greatest(p.next_at, clock_timestamp()) <= clock_timestamp() + (? * interval '1 millisecond')
     returning extract(epoch from (next_at - clock_timestamp())) * 1000 - ? as wait_ms`,
    [accountKey, intervalMs, intervalMs, maxWaitMs + toleranceMs, intervalMs + toleranceMs],
  );
  if (rows.length === 0) {
    const row = await deps
      .db('account_pacing')
      .where({ account_key: accountKey })
      .first(deps.db.raw('extract(epoch from (next_at - clock_timestamp())) * 1000 as wait_ms'));
    const waitMs = Math.max(1000, Number(row?.wait_ms ?? 1000) - toleranceMs);
    throw new ProviderError(
      'retryable',
      'account_paced',
      `the account's request budget is taken for the next ${Math.round(waitMs / 1000)} s`,
      undefined,
      waitMs,
    );
  }
  const waitMs = Number(rows[0].wait_ms);
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
}

/** Paces one request of a link's account: writes, import reads and reconciliation share the budget. */
export function paceLink(
  deps: ActivityDeps,
  link: { provider: string; account_email: string },
  budget: AccountBudget,
  maxWaitMs?: number,
): Promise<void> {
  return paceAccount(deps, `${link.provider}:${link.account_email.toLowerCase()}`, budget, maxWaitMs);
}
