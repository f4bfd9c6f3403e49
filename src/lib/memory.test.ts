/** @module Tests of the run's memory helpers: a full collection really collects, and the figures are what they say. */
import { setImmediate } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { collectGarbage, memoryNow } from './memory.js'

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
