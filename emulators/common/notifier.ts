/**
 * Push notifications the emulators send to subscribers (Google channels, Graph subscriptions):
 * fire and forget, like the real services, which retry a little and then give up. `sent` counts
 * deliveries per address so tests can tell "no notification" from "not yet".
 */
export class Notifier {
  /** Switched off by the control API to emulate pushes that stop arriving. */
  enabled = true;
  readonly sent = new Map<string, number>();

  async post(url: string, headers: Record<string, string>, body?: string): Promise<number | undefined> {
    if (!this.enabled) return undefined;
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      this.sent.set(url, (this.sent.get(url) ?? 0) + 1);
      return res.status;
    } catch {
      return undefined;
    }
  }

  reset(): void {
    this.enabled = true;
    this.sent.clear();
  }
}
