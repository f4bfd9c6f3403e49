/** @module Terminal text layout: display width, truncation with an ellipsis, and word wrap, measured in columns. */

export const ELLIPSIS = '…'

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200d\u2060\ufeff]$/u

/**
 * East Asian wide and fullwidth ranges plus the emoji blocks: two columns on every common terminal.
 * An approximation of Unicode's East_Asian_Width (no dependency ships the table); it errs towards
 * counting two, which only makes a line shorter than the limit, never longer.
 */
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x26a1, 0x26a1],
  [0x2705, 0x2705],
  [0x274c, 0x274c],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f2ff],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x3fffd],
]

/** Columns one code point takes on a terminal: 0, 1 or 2. Control characters must be sanitised before. */
export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!
  if (cp < 0x300) return 1
  if (ZERO_WIDTH.test(ch)) return 0
  for (const [lo, hi] of WIDE_RANGES) {
    if (cp < lo) break
    if (cp <= hi) return 2
  }
  return 1
}

/** Columns `text` takes on a terminal (no ANSI codes expected: measure before colouring). */
export function displayWidth(text: string): number {
  let width = 0
  for (const ch of text) width += charWidth(ch)
  return width
}

/** Cuts `text` to at most `max` columns, ending in `…` when anything was cut. */
export function truncate(text: string, max: number): string {
  if (displayWidth(text) <= max) return text
  if (max <= 0) return ''
  let out = ''
  let width = 0
  for (const ch of text) {
    const w = charWidth(ch)
    if (width + w > max - 1) break
    out += ch
    width += w
  }
  return out + ELLIPSIS
}

/** Splits one word wider than `max` into pieces of at most `max` columns. */
function breakWord(word: string, max: number): string[] {
  const pieces: string[] = []
  let piece = ''
  let width = 0
  for (const ch of word) {
    const w = charWidth(ch)
    if (width + w > max && piece !== '') {
      pieces.push(piece)
      piece = ''
      width = 0
    }
    piece += ch
    width += w
  }
  if (piece !== '') pieces.push(piece)
  return pieces
}

/**
 * Greedy word wrap to lines of at most `max` columns (`max` ≥ 2). Runs of spaces collapse to one; a word
 * wider than a line (a long id, a URL) is broken across lines rather than overflowing.
 * Returns no lines for blank text.
 */
export function wrap(text: string, max: number): string[] {
  const limit = Math.max(2, max)
  const lines: string[] = []
  let line = ''
  let width = 0
  for (const word of text.split(' ')) {
    if (word === '') continue
    const w = displayWidth(word)
    if (line !== '' && width + 1 + w <= limit) {
      line += ' ' + word
      width += 1 + w
      continue
    }
    if (line !== '') lines.push(line)
    if (w <= limit) {
      line = word
      width = w
      continue
    }
    const pieces = breakWord(word, limit)
    const last = pieces.pop() ?? ''
    lines.push(...pieces)
    line = last
    width = displayWidth(last)
  }
  if (line !== '') lines.push(line)
  return lines
}
