/**
 * Per-key sliding windows of request times. Only admitted requests enter a window, so a client
 * that backs off recovers once its old requests age out.
 */
export class SlidingWindow {
  private windows = new Map<string, number[]>();

  /** Admits a request (undefined) or answers how many seconds until the window has room. */
  admit(key: string, limit: number, windowMs: number, now: number): number | undefined {
    const window = (this.windows.get(key) ?? []).filter((t) => t > now - windowMs);
    this.windows.set(key, window);
    if (window.length >= limit) return Math.max(1, Math.ceil((window[0]! + windowMs - now) / 1000));
    window.push(now);
    return undefined;
  }

  reset(): void {
    this.windows.clear();
  }
}
