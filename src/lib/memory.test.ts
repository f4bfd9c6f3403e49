/**
 * @module Tests of the run's memory helpers: a full collection really collects, the heap's growth is capped and set
 * back, pretenuring is held off, and the figures are what they say.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { setImmediate, setTimeout } from 'node:timers/promises'
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import { describe, expect, it } from 'vitest'
import {
  collectGarbage,
  collectGarbageIfLarge,
  HEAP_CHECK_MS,
  LARGE_HEAP_MIB,
  memoryNow,
  withHeapGrowth,
  withShortLivedObjects,
} from './memory.js'

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

describe('collectGarbageIfLarge', () => {
  it('collects once the heap in use has reached the size, and leaves a smaller heap alone', async () => {
    const usedMiB = getHeapStatistics().used_heap_size / 1_048_576
    let dropped: object | null = { payload: new Array(1000).fill('x') }
    const ref = new WeakRef(dropped)
    dropped = null
    await setImmediate()
    expect(collectGarbageIfLarge(usedMiB * 4 + 64)).toBe(false)
    expect(ref.deref()).toBeDefined()
    // Reading a WeakRef keeps its target alive until the end of the job.
    await setImmediate()
    expect(collectGarbageIfLarge(Math.floor(usedMiB / 2))).toBe(true)
    expect(ref.deref()).toBeUndefined()
    // A run's heap at 100,000 devices (under 200 MB in use) is below the default size; a million's (1.4 GB) above.
    expect(LARGE_HEAP_MIB).toBeGreaterThanOrEqual(256)
    expect(LARGE_HEAP_MIB).toBeLessThanOrEqual(1024)
  })
})

/**
 * Starts noting V8's full collections; `stop` ends it and gives their start times (`performance.now()` clock).
 * Collections are reported to observers after the fact: `stop` waits for the last ones.
 */
function watchFullCollections(): { stop: () => Promise<number[]> } {
  const starts: number[] = []
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (
        ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind ===
        constants.NODE_PERFORMANCE_GC_MAJOR
      )
        starts.push(e.startTime)
  })
  observer.observe({ type: 'gc' })
  return {
    async stop() {
      await setTimeout(20)
      observer.disconnect()
      return starts
    },
  }
}

/** Longer than the period of withHeapGrowth's check of the heap, with room for a busy machine's timers. */
const HEAP_CHECK_WAIT_MS = 3 * HEAP_CHECK_MS

describe('withHeapGrowth', () => {
  /**
   * What reading a tenant does to V8: most of what it makes lives on (60,000 objects kept in each of 40 steps, and
   * garbage beside them). Returns how many full collections that took.
   */
  async function keepGrowing(): Promise<{ fullCollections: number }> {
    collectGarbage()
    const watch = watchFullCollections()
    const kept: object[][] = []
    for (let step = 0; step < 40; step++) {
      kept.push(Array.from({ length: 60_000 }, (_, i) => ({ i, step })))
      // Garbage beside it, as a page's text and parsed JSON are.
      for (let g = 0; g < 20; g++) JSON.parse(JSON.stringify(kept[step]!.slice(0, 3000)))
      // A read waits on the network now and then, which is when withHeapGrowth's check of the heap runs: once the
      // first quarter is kept (more than 20 MiB), a wait longer than the check's period. Without it, on a busy
      // machine the check could come too late to cap the rest (seen in CI: one full collection instead of more).
      await (step === 10 ? setTimeout(HEAP_CHECK_WAIT_MS) : setImmediate())
    }
    return { fullCollections: (await watch.stop()).length }
  }

  it('collects sooner while it runs, and leaves V8 to pick again after', async () => {
    const capped = await withHeapGrowth({ percent: 10 }, keepGrowing)
    const free = await keepGrowing()
    expect(capped.fullCollections).toBeGreaterThan(free.fullCollections + 2)
    // And it was set back even when what ran threw.
    await expect(
      withHeapGrowth({ percent: 10 }, async () => {
        throw new Error('read failed')
      }),
    ).rejects.toThrow('read failed')
    const after = await keepGrowing()
    expect(after.fullCollections).toBeLessThan(capped.fullCollections - 2)
  })

  it('keeps the cap while any of several overlapping calls runs', async () => {
    let endFirst = () => {}
    let startSecond = () => {}
    const first = withHeapGrowth({ percent: 10 }, () => new Promise<void>((resolve) => (endFirst = resolve)))
    const second = withHeapGrowth({ percent: 10 }, async () => {
      await new Promise<void>((resolve) => (startSecond = resolve))
      return keepGrowing()
    })
    endFirst()
    await first
    startSecond()
    const overlapped = await second
    const free = await keepGrowing()
    expect(overlapped.fullCollections).toBeGreaterThan(free.fullCollections + 2)
  })

  it('leaves V8 alone until the heap in use reaches the size the cap starts from', async () => {
    // What is alive now, without the garbage of what ran before (keepGrowing starts with a full collection too).
    const inUseMiB = () => {
      collectGarbage()
      return getHeapStatistics().used_heap_size / 1_048_576
    }
    const free = await keepGrowing()
    const never = await withHeapGrowth({ percent: 10, fromMiB: inUseMiB() + 65_536 }, keepGrowing)
    expect(never.fullCollections).toBeLessThan(free.fullCollections + 2)
    // Reached before it starts: capped at once.
    const atOnce = await withHeapGrowth({ percent: 10, fromMiB: inUseMiB() / 2 }, keepGrowing)
    expect(atOnce.fullCollections).toBeGreaterThan(free.fullCollections + 2)
    // Reached while it runs (keepGrowing keeps over 100 MiB): capped from then on, and set back after.
    const later = await withHeapGrowth({ percent: 10, fromMiB: inUseMiB() + 20 }, keepGrowing)
    expect(later.fullCollections).toBeGreaterThan(free.fullCollections + 2)
    const after = await keepGrowing()
    expect(after.fullCollections).toBeLessThan(atOnce.fullCollections - 2)
    // Ended before the heap reached it: the heap growing afterwards is not capped.
    await withHeapGrowth({ percent: 10, fromMiB: inUseMiB() + 20 }, async () => {})
    const afterEnded = await keepGrowing()
    expect(afterEnded.fullCollections).toBeLessThan(free.fullCollections + 2)
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
    const watch = watchFullCollections()
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
    const full = await watch.stop()
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
