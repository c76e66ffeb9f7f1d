/**
 * Tenant API keys as last looked up, trusted for a few seconds. Every /v1 request checks its key,
 * and a PostgreSQL round trip per request was the largest part of the event loop's time under load:
 * with it, one tenant's stream of reads delayed every other tenant's requests. Only keys that were
 * found (and not revoked) are kept, by their hash, never the key itself, and at most `maxEntries`.
 *
 * Revocation: a key revoked through this process is forgotten at once (DELETE /v1/api-keys/:id);
 * one revoked through another API process, or by hand in PostgreSQL, is refused here at most `ttlMs`
 * after the revocation committed.
 */

export interface CachedKey {
  id: string;
  tenantId: string;
  /** When last use was last recorded (epoch ms), to write it at most once a minute. */
  lastUsedMs: number | null;
}

interface Entry {
  key: CachedKey;
  until: number;
}

export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every revocation: a lookup that was under way meanwhile may have read the key before it. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The key with this hash: kept while fresh, else `lookup()`'s answer (undefined: unknown or revoked). */
  async get(hash: string, lookup: () => Promise<CachedKey | undefined>): Promise<CachedKey | undefined> {
    const started = Date.now();
    const entry = this.entries.get(hash);
    if (entry && entry.until > started) return entry.key;
    if (entry) this.entries.delete(hash);
    const generation = this.generation;
    const key = await lookup();
    if (key && this.ttlMs > 0 && generation === this.generation) {
      // Full: the oldest entry goes (a Map iterates in insertion order).
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      // From when the lookup began: the row may have been read at any moment after that.
      this.entries.set(hash, { key, until: started + this.ttlMs });
    }
    return key;
  }

  /** A key was revoked: its next request is looked up again, and no lookup under way now is kept. */
  forget(keyId: string): void {
    this.generation += 1;
    for (const [hash, entry] of this.entries) if (entry.key.id === keyId) this.entries.delete(hash);
  }
}
