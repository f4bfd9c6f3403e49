/** @module Tests of the allocation-free case-insensitive comparisons: they answer as `toLowerCase` would. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { lowerCaseIn, lowerCaseIs } from './text.js'

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
