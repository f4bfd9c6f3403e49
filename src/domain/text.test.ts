/**
 * @module Tests of the allocation-free case-insensitive comparisons (they answer as `toLowerCase` would), and of
 * `flatten`, measured in the heap.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { collectGarbage } from '../lib/memory.js'
import { flatten, lowerCaseIn, lowerCaseIs } from './text.js'

const VALUES = ['serverad', 'shared', 'iot', 'k', '']
const text = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    'ServerAd',
    'SERVERAD',
    'Shared',
    'IoT',
    '\u212a',
    'K',
    'serverAd ',
    'İot',
  ),
  fc.string({ maxLength: 10 }),
  fc
    .array(fc.constantFrom(...'sSeErRvVaAdDkK\u212a\u0130iI\u212b\u0307'), { maxLength: 9 })
    .map((c) => c.join('')),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
)

describe('lowerCaseIs and lowerCaseIn', () => {
  it('agree with toLowerCase, for ASCII and non-ASCII text', () => {
    fc.assert(
      fc.property(text, fc.constantFrom(...VALUES), (t, lower) => {
        expect(lowerCaseIs(t, lower)).toBe(t?.toLowerCase() === lower)
        expect(lowerCaseIn(t, VALUES)).toBe(VALUES.includes(t?.toLowerCase() ?? ''))
      }),
      { numRuns: 2000 },
    )
  })

  it('lower-cases the Kelvin sign to "k", as toLowerCase does', () => {
    expect(lowerCaseIs('\u212a', 'k')).toBe(true)
    expect(lowerCaseIn(null, ['a'])).toBe(false)
  })
})

describe('flatten', () => {
  const TWO = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'))
  const DAYS = Array.from({ length: 28 }, (_, n) => `2026-10-${TWO[n + 1]}`)
  const COUNT = 200_000

  /** COUNT timestamps built of eight pieces each, as `isoText` builds them, and the heap they hold once collected. */
  function timestamps(flat: boolean): { texts: string[]; bytes: number } {
    expect(collectGarbage()).toBe(true)
    const before = process.memoryUsage().heapUsed
    const texts = new Array<string>(COUNT)
    for (let i = 0; i < COUNT; i++) {
      const text = `${DAYS[i % 28]}T${TWO[i % 24]}:${TWO[(i >> 3) % 60]}:${TWO[(i >> 5) % 60]}.${TWO[i % 60]}0Z`
      texts[i] = flat ? flatten(text) : text
    }
    collectGarbage()
    return { texts, bytes: process.memoryUsage().heapUsed - before }
  }

  it('keeps a string built of pieces as one flat string, also where the optimiser has compiled the caller', () => {
    // A loop this long is optimised while it runs: the case in which the optimiser dropped the old `Number(text)`.
    const tree = timestamps(false)
    const flat = timestamps(true)
    expect(flat.texts).toEqual(tree.texts)
    // A tree of eight pieces is about 300 bytes; the flat text about 50.
    expect(flat.bytes).toBeLessThan(tree.bytes / 3)
  })
})
