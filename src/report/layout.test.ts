/** @module Tests of terminal text layout: widths in columns, ellipsis truncation, and wrapping that never overflows. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { displayWidth, truncate, wrap } from './layout.js'
import { sanitizeText } from './sanitize.js'

describe('displayWidth', () => {
  it('counts columns, not UTF-16 units', () => {
    expect(displayWidth('LAPTOP-01')).toBe(9)
    expect(displayWidth('会議室PC')).toBe(8)
    expect(displayWidth('e\u0301')).toBe(1)
    // Emoji whose width depends on the terminal are counted as two: a line may end short, never long.
    expect(displayWidth('🖥️')).toBe(2)
    expect(displayWidth('😀')).toBe(2)
  })
})

describe('truncate', () => {
  it('keeps text that fits and ends cut text with an ellipsis', () => {
    expect(truncate('a19d8bb8-0000', 13)).toBe('a19d8bb8-0000')
    expect(truncate('a19d8bb8-0000', 9)).toBe('a19d8bb8…')
    expect(truncate('会議室PC', 4)).toBe('会…')
    expect(truncate('abc', 0)).toBe('')
  })
})

describe('wrap', () => {
  it('wraps on spaces and breaks a word longer than the line', () => {
    expect(wrap('one two three four', 9)).toEqual(['one two', 'three', 'four'])
    expect(wrap('x 0123456789abcdef y', 8)).toEqual(['x', '01234567', '89abcdef', 'y'])
    expect(wrap('   ', 10)).toEqual([])
  })

  it('never gives a line wider than the limit', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.integer({ min: 2, max: 60 }),
        (raw, max) => {
          for (const line of wrap(sanitizeText(raw), max)) expect(displayWidth(line)).toBeLessThanOrEqual(max)
        },
      ),
    )
  })
})
