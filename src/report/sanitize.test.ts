/** @module Tests of the tenant-text sanitiser: every control and bidi character becomes a visible escape. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hasUnsafeChars, neutralizeFormula, sanitizeCell, sanitizeText } from './sanitize.js'

describe('sanitizeText', () => {
  it('escapes the terminal control sequence in a hostile device name', () => {
    expect(sanitizeText('\u001b[2J evil')).toBe('\\x1b[2J evil')
    expect(sanitizeText('\u001b]8;;http://x\u0007link\u001b]8;;\u0007')).toBe(
      '\\x1b]8;;http://x\\x07link\\x1b]8;;\\x07',
    )
  })

  it.each([
    ['NUL', '\u0000', '\\x00'],
    ['BEL', '\u0007', '\\x07'],
    ['TAB', '\t', '\\x09'],
    ['LF', '\n', '\\x0a'],
    ['CR', '\r', '\\x0d'],
    ['ESC', '\u001b', '\\x1b'],
    ['DEL', '\u007f', '\\x7f'],
    ['NEL (C1)', '\u0085', '\\x85'],
    ['CSI (C1)', '\u009b', '\\x9b'],
    ['OSC (C1)', '\u009d', '\\x9d'],
    ['line separator', '\u2028', '\\u2028'],
    ['LRE', '\u202a', '\\u202a'],
    ['RLO', '\u202e', '\\u202e'],
    ['LRI', '\u2066', '\\u2066'],
    ['PDI', '\u2069', '\\u2069'],
    ['RLM', '\u200f', '\\u200f'],
    ['ALM', '\u061c', '\\u061c'],
  ])('escapes %s', (_name, input, escaped) => {
    expect(sanitizeText(`a${input}b`)).toBe(`a${escaped}b`)
    expect(hasUnsafeChars(input)).toBe(true)
  })

  it('leaves ordinary names alone, including non-Latin text and emoji', () => {
    for (const name of [
      'LAPTOP-01',
      'Zoë’s MacBook Pro',
      '会議室PC',
      'Kiosk 🖥️',
      'DOMAIN\\host',
      'a\u00a0b',
    ]) {
      expect(sanitizeText(name)).toBe(name)
      expect(hasUnsafeChars(name)).toBe(false)
    }
  })

  it('leaves no control or bidi character in any string, and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const once = sanitizeText(text)
        expect(hasUnsafeChars(once)).toBe(false)
        expect(sanitizeText(once)).toBe(once)
      }),
    )
  })
})

describe('neutralizeFormula', () => {
  it.each(['=HYPERLINK("http://evil","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'])(
    'prefixes %j with a quote',
    (cell) => {
      expect(neutralizeFormula(cell)).toBe(`'${cell}`)
    },
  )

  it('leaves other cells alone', () => {
    for (const cell of ['LAPTOP-01', '', ' =1', "'=1", 'a=b', '2026-01-01T00:00:00Z']) {
      expect(neutralizeFormula(cell)).toBe(cell)
    }
  })
})

describe('sanitizeCell', () => {
  it('escapes controls first, so a leading TAB or CR can no longer start a formula', () => {
    expect(sanitizeCell('\t=1+1')).toBe('\\x09=1+1')
    expect(sanitizeCell('=1+1\u001b[2J')).toBe("'=1+1\\x1b[2J")
  })
})
