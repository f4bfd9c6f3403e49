/** @module Sliding-window rate limiter: never more than the limit in any window, and calls served in order. */
import { describe, expect, it } from 'vitest'
import { RateLimiter } from './rate-limiter.js'

/** A fake clock whose sleep advances time, so minutes pass instantly. */
function fakeClock() {
  let now = 0
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms
    },
  }
}

describe('RateLimiter', () => {
  it('with a transit margin, calls late by up to the margin never arrive more than the limit per window', async () => {
    async function releases(marginMs: number) {
      const clock = fakeClock()
      const limiter = new RateLimiter({ windows: [{ limit: 2, ms: 1000 }], marginMs, ...clock })
      const out: number[] = []
      for (let i = 0; i < 6; i++) {
        await limiter.acquire()
        out.push(clock.now())
      }
      return out
    }
    // Every pattern of each call arriving on time or 100 ms late.
    const worstArrivals = (released: number[]) => {
      let worst = 0
      for (let mask = 0; mask < 2 ** released.length; mask++) {
        const arrivals = released.map((t, i) => t + ((mask >> i) & 1 ? 100 : 0))
        for (const t of arrivals)
          worst = Math.max(worst, arrivals.filter((x) => x > t - 1000 && x <= t).length)
      }
      return worst
    }
    expect(worstArrivals(await releases(100))).toBe(2)
    // Without the margin some pattern lands more than two calls in one window.
    expect(worstArrivals(await releases(0))).toBeGreaterThan(2)
  })

  it('lets the first calls through at once', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({ windows: [{ limit: 3, ms: 1000 }], ...clock })
    for (let i = 0; i < 3; i++) await limiter.acquire()
    expect(clock.now()).toBe(0)
  })

  it('never allows more than the limit within any sliding window (Defender: 100/min and 1,500/h)', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({
      windows: [
        { limit: 100, ms: 60_000 },
        { limit: 1_500, ms: 3_600_000 },
      ],
      ...clock,
    })
    const stamps: number[] = []
    for (let i = 0; i < 1_700; i++) {
      await limiter.acquire()
      stamps.push(clock.now())
    }
    // Check every window that ends at a call: sliding, not fixed, windows.
    for (let i = 0; i < stamps.length; i++) {
      const t = stamps[i]!
      expect(stamps.filter((s) => s > t - 60_000 && s <= t).length).toBeLessThanOrEqual(100)
      if (i % 50 === 0)
        expect(stamps.filter((s) => s > t - 3_600_000 && s <= t).length).toBeLessThanOrEqual(1_500)
    }
    // 1,500 calls fit in the first hour (15 minutes at 100/min); the 1,501st waits for the hour to roll.
    expect(stamps[1_499]!).toBeLessThan(3_600_000)
    expect(stamps[1_500]!).toBeGreaterThan(3_600_000)
  })

  it('reaches the allowed rate: 100 calls per minute, not fewer', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({ windows: [{ limit: 100, ms: 60_000 }], ...clock })
    for (let i = 0; i < 500; i++) await limiter.acquire()
    // 500 calls at 100/min need just over four minutes.
    expect(clock.now()).toBeGreaterThan(4 * 60_000)
    expect(clock.now()).toBeLessThan(4 * 60_000 + 100)
  })

  it('serves concurrent callers in order without exceeding the limit', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({ windows: [{ limit: 2, ms: 1000 }], ...clock })
    const order: number[] = []
    await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.acquire().then(() => order.push(i))))
    expect(order).toEqual([0, 1, 2, 3, 4])
    expect(clock.now()).toBeGreaterThanOrEqual(2000)
  })
})

describe('RateLimiter.acquire(count)', () => {
  it('lets a group go at once only when the whole group fits every window', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({ windows: [{ limit: 20, ms: 1000 }], ...clock })
    await limiter.acquire(15)
    expect(clock.now()).toBe(0)
    // 15 + 10 > 20: the group waits until the first 15 have left the window, then all 10 go together.
    await limiter.acquire(10)
    expect(clock.now()).toBe(1001)
    await limiter.acquire(10)
    expect(clock.now()).toBe(1001)
    expect(() => limiter.acquire(21)).toThrow(RangeError)
  })
})
