/** @module Splits an admin's instruction text into sentences, so each one can be applied or refused on its own. */

/** Bullet and numbered-list markers at the start of a line ("- ", "* ", "• ", "1. ", "2) "). */
const BULLET = /^\s*(?:[-*•‣◦]|\d+[.)])\s+/

/**
 * Sentences end at a newline, a semicolon, or a period followed by a space or the end of the line. A period
 * inside a value ("alice@contoso.com", "lt-0107.contoso.local") does not end a sentence, nor does anything
 * inside double quotes. `?` and `!` never end one: `?` is a wildcard in exclusion patterns.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = []
  const push = (s: string) => {
    const t = s.trim()
    // A fragment with no letter or digit (a lone bullet, "...") carries no instruction.
    if (/[\p{L}\p{N}]/u.test(t)) out.push(t)
  }
  for (const rawLine of text.split(/\r\n|\r|\n/)) {
    const line = rawLine.replace(BULLET, '')
    let current = ''
    let quoted = false
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!
      if (ch === '"' || ch === '\u201C' || ch === '\u201D') quoted = !quoted
      const next = line[i + 1]
      const ends = !quoted && (ch === ';' || (ch === '.' && (next === undefined || /\s/.test(next))))
      if (ends) {
        push(current)
        current = ''
      } else {
        current += ch
      }
    }
    push(current)
  }
  return out
}
