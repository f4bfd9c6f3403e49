/** @module Tests of the run's memory helpers: a full collection really collects, and the figures are what they say. */
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { setImmediate, setTimeout } from 'node:timers/promises'
import { getHeapSpaceStatistics } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { collectGarbage, memoryNow, withShortLivedObjects } from './memory.js'

describe('collectGarbage', () => {
  it('collects an object nothing refers to any more, at once', async () => {
    let dropped: object | null = { payload: new Array(1000).fill('x') }
    const ref = new WeakRef(dropped)
    dropped = null
    // A WeakRef's target lives at least until the end of the job that made it.
    await setImmediate()
    expect(collectGarbage()).toBe(true)
    expect(ref.deref()).toBeUndefined()
  })
})

describe('collectGarbage({ compact: true })', () => {
  const heapMiB = () => process.memoryUsage().heapTotal / 1_048_576
  /**
   * 600k objects moved to the old generation side by side (pages V8 then knows as full), and all but one in sixteen
   * let go: no page is empty, so a plain collection can give none back.
   */
  function fragmentedHeap(): { survivors: object[]; full: number } {
    const objects = Array.from({ length: 600_000 }, (_, i) => ({ i, text: `record ${i}`, list: [i] }))
    collectGarbage()
    collectGarbage()
    const full = heapMiB()
    return { survivors: objects.filter((_, i) => i % 16 === 0), full }
  }

  it('gives back the pages a plain collection keeps for the few objects on them, and only when asked', () => {
    const first = fragmentedHeap()
    collectGarbage({ compact: true })
    const compactedFreed = first.full - heapMiB()
    expect(first.survivors).toHaveLength(37_500)
    first.survivors.length = 0
    collectGarbage()
    collectGarbage()
    // The same again, collected plainly: the flag was set back.
    const second = fragmentedHeap()
    collectGarbage()
    const plainFreed = second.full - heapMiB()
    expect(second.survivors).toHaveLength(37_500)
    expect(compactedFreed).toBeGreaterThan(40)
    expect(plainFreed).toBeLessThan(compactedFreed / 4)
  })
})

describe('withShortLivedObjects', () => {
  // Three factories that look alike: each object literal is an allocation site of its own, with its own history.
  const warmUpSite = (i: number) => ({ i, list: [i] })
  const wrappedSite = (i: number) => ({ i, list: [i] })
  const plainSite = (i: number) => ({ i, list: [i] })
  const oldSpaceMiB = () =>
    getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size / 1_048_576

  /**
   * What the engine does to V8: a site's first objects all live through a young-generation collection (a batch of
   * 900k), then millions more from it die at once (a ring of 1,000). Returns how much the old generation grew while
   * they died and how many full collections that took.
   */
  async function batchThenChurn(
    make: (i: number) => object,
    wrap: boolean,
  ): Promise<{ grownMiB: number; fullCollections: number }> {
    collectGarbage()
    const full: number[] = []
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        if (
          ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind ===
          constants.NODE_PERFORMANCE_GC_MAJOR
        )
          full.push(e.startTime)
    })
    observer.observe({ type: 'gc' })
    const phases = () => {
      let batch: object[] | null = []
      for (let i = 0; i < 900_000; i++) batch.push(make(i))
      batch = null
      const before = oldSpaceMiB()
      const start = performance.now()
      const ring: object[] = new Array(1000)
      for (let i = 0; i < 3_000_000; i++) ring[i % 1000] = make(i)
      return { grownMiB: oldSpaceMiB() - before, start, end: performance.now() }
    }
    const r = wrap ? withShortLivedObjects(phases) : phases()
    // Collections are reported to observers after the fact.
    await setTimeout(20)
    observer.disconnect()
    return { grownMiB: r.grownMiB, fullCollections: full.filter((t) => t >= r.start && t <= r.end).length }
  }

  it('keeps objects that die young out of the old generation, then sets V8 back', async () => {
    // The loops optimised first, as the engine's are after a few thousand devices.
    await batchThenChurn(warmUpSite, false)
    const wrapped = await batchThenChurn(wrappedSite, true)
    const plain = await batchThenChurn(plainSite, false)
    expect(wrapped.fullCollections).toBe(0)
    expect(wrapped.grownMiB).toBeLessThan(30)
    // Without it (and so after it too: the setting is back), V8 sends them to the old generation and must collect it.
    expect(plain.fullCollections).toBeGreaterThan(0)
  })
})

describe('memoryNow', () => {
  it('gives whole MiB: resident memory holds the heap in use, the heap reserved holds the heap in use', () => {
    const m = memoryNow()
    expect(Object.keys(m).sort()).toEqual(['externalMiB', 'heapTotalMiB', 'heapUsedMiB', 'rssMiB'])
    for (const v of Object.values(m)) expect(Number.isInteger(v)).toBe(true)
    expect(m.rssMiB).toBeGreaterThanOrEqual(m.heapUsedMiB)
    expect(m.heapUsedMiB).toBeGreaterThan(0)
    expect(m.heapTotalMiB).toBeGreaterThanOrEqual(m.heapUsedMiB)
  })
})
