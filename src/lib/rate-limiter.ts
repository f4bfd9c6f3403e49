/**
 * @module Client-side rate limits as sliding windows (e.g. Defender: 100 calls per minute and 1,500 per hour,
 * reference §4.3): a call waits until every window has room, so the API never has to say 429.
 */

export interface RateWindow {
  /** Calls allowed per window. */
  limit: number
  /** Window length in milliseconds. */
  ms: number
}

export interface RateLimiterOptions {
  windows: RateWindow[]
  /**
   * How much longer than its window a call keeps counting. Services count a call when it arrives, the limiter when
   * it lets it go; the margin covers the time in between, so a call sent late cannot land in a full window.
   */
  marginMs?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

/** The margin for service limits: a request's transit time, generously (costs about 3 % of a one-minute window). */
export const TRANSIT_MARGIN_MS = 2_000

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class RateLimiter {
  private readonly stamps: number[] = []
  private readonly longest: number
  private readonly now: () => number
  private readonly sleep: (ms: number) => Promise<void>
  /** Callers queue here so that waiting calls are served in order. */
  private chain: Promise<void> = Promise.resolve()

  constructor(private readonly opts: RateLimiterOptions) {
    this.longest = Math.max(0, ...opts.windows.map((w) => w.ms)) + (opts.marginMs ?? 0)
    this.now = opts.now ?? Date.now
    this.sleep = opts.sleep ?? defaultSleep
  }

  /**
   * Resolves when `count` calls may start together, and counts them. Calls sent in one request (the writes of a
   * `$batch`) are let go together, so none of them is counted earlier than the request leaves.
   */
  acquire(count = 1): Promise<void> {
    const largest = Math.min(...this.opts.windows.map((w) => w.limit))
    if (!Number.isInteger(count) || count < 1 || count > largest)
      throw new RangeError(`a rate limiter can let go 1 to ${largest} calls at once, not ${count}`)
    const turn = this.chain.then(() => this.waitForSlot(count))
    this.chain = turn.catch(() => undefined)
    return turn
  }

  /** Milliseconds until `count` calls could start now (0 when they can). */
  delayNeeded(count = 1): number {
    const now = this.now()
    let wait = 0
    const margin = this.opts.marginMs ?? 0
    for (const w of this.opts.windows) {
      const inWindow = this.countSince(now - w.ms - margin)
      if (inWindow + count > w.limit) {
        // Enough of the oldest calls in the window must leave it for `count` more to fit.
        const oldest = this.stamps[this.stamps.length - (w.limit - count) - 1]!
        wait = Math.max(wait, oldest + w.ms + margin - now + 1)
      }
    }
    return wait
  }

  private async waitForSlot(count: number): Promise<void> {
    for (;;) {
      const wait = this.delayNeeded(count)
      if (wait <= 0) break
      await this.sleep(wait)
    }
    const now = this.now()
    for (let i = 0; i < count; i++) this.stamps.push(now)
    // Forget calls older than the longest window.
    let drop = 0
    while (drop < this.stamps.length && this.stamps[drop]! <= now - this.longest) drop++
    if (drop > 0) this.stamps.splice(0, drop)
  }

  private countSince(since: number): number {
    let n = 0
    for (let i = this.stamps.length - 1; i >= 0 && this.stamps[i]! > since; i--) n++
    return n
  }
}
