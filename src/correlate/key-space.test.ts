/** @module Tests of the join-key ids: one id per distinct text, whichever encoding holds it. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BATCH, KeySpace } from './key-space.js'

/** GUID-like text in mixed case, serial-like text, and characters that lower-case into ASCII (the Kelvin sign). */
const hexChar = fc.constantFrom(...'0123456789abcdefABCDEF')
const guid = fc
  .array(hexChar, { minLength: 32, maxLength: 32 })
  .map(
    (c) =>
      `${c.slice(0, 8).join('')}-${c.slice(8, 12).join('')}-${c.slice(12, 16).join('')}-${c.slice(16, 20).join('')}-${c.slice(20).join('')}`,
  )
const serialChar = fc.constantFrom(...'0123456789ABCDEFKXYZabkxyz-. _\u212a\u0130é')
const serial = fc.array(serialChar, { minLength: 0, maxLength: 24 }).map((c) => c.join(''))
/** GUID-shaped text with one character that is not a hex digit (or a dash out of place). */
const nearGuid = fc
  .tuple(guid, fc.nat(35), fc.constantFrom('g', 'G', '-', 'é', '\u212a', ' '))
  .map(([g, at, c]) => g.slice(0, at) + c + g.slice(at + 1))
const key = fc.oneof(guid, nearGuid, serial, fc.string({ maxLength: 40 }))

describe('KeySpace', () => {
  it('gives one id per distinct text, dense from 0 in order of first appearance', () => {
    fc.assert(
      fc.property(fc.array(key, { maxLength: 60 }), fc.boolean(), (keys, lowerCase) => {
        const space = new KeySpace()
        const seen = new Map<string, number>()
        // Repeat the keys so that every one is also looked up again.
        for (const k of [...keys, ...keys]) {
          const text = lowerCase ? k.toLowerCase() : k
          const id = space.id(k, lowerCase)
          if (!seen.has(text)) {
            expect(id).toBe(seen.size)
            seen.set(text, id)
          }
          expect(id).toBe(seen.get(text))
        }
        expect(space.size).toBe(seen.size)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps GUIDs apart that differ in one bit, and joins them across case only when asked', () => {
    const a = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'
    const b = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f1'
    const space = new KeySpace()
    expect([space.id(a), space.id(b), space.id(a.toUpperCase()), space.id(a)]).toEqual([0, 1, 2, 0])
    const lower = new KeySpace()
    expect([lower.id(a, true), lower.id(a.toUpperCase(), true)]).toEqual([0, 0])
  })

  it('joins a key with the Kelvin sign to its lower-cased ASCII twin when lower-casing', () => {
    const space = new KeySpace()
    expect(space.id('PF3\u212aX9Q1', true)).toBe(space.id('pf3kx9q1', true))
    expect(space.id('PF3\u212aX9Q1')).not.toBe(space.id('PF3KX9Q1'))
  })

  it('stays right after the table grows past its first size', () => {
    const space = new KeySpace()
    const keys = Array.from({ length: 5000 }, (_, i) => `SN${i.toString(36).toUpperCase()}`)
    expect(keys.map((k) => space.id(k))).toEqual(keys.map((_, i) => i))
    expect(keys.map((k) => space.id(k))).toEqual(keys.map((_, i) => i))
  })

  it('gives a batch (`ids`) the ids `id` gives its keys one at a time, however the keys are split into batches', () => {
    fc.assert(
      fc.property(
        fc.array(key, { maxLength: 200 }),
        fc.array(fc.integer({ min: 1, max: BATCH }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (keys, sizes, lowerCase) => {
          const one = new KeySpace()
          const expected = [...keys, ...keys].map((k) => one.id(k, lowerCase))
          const batched = new KeySpace()
          const values = [...keys, ...keys]
          const got: number[] = []
          const out = new Int32Array(BATCH)
          for (let at = 0, b = 0; at < values.length; b++) {
            const count = Math.min(sizes[b % sizes.length]!, values.length - at)
            batched.ids(values.slice(at, at + count), count, lowerCase, out)
            got.push(...out.subarray(0, count))
            at += count
          }
          expect(got).toEqual(expected)
          expect(batched.size).toBe(one.size)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('gives a batch the right ids while its table grows under it', () => {
    const space = new KeySpace(10)
    const guids = Array.from(
      { length: 5000 },
      (_, i) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    )
    const out = new Int32Array(BATCH)
    const got: number[] = []
    for (const pass of [0, 1])
      for (let at = 0; at < guids.length; at += BATCH) {
        const batch = guids.slice(at, at + BATCH)
        space.ids(batch, batch.length, pass === 1, out)
        got.push(...out.subarray(0, batch.length))
      }
    expect(got).toEqual([...guids.keys(), ...guids.keys()])
  })
})
