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
