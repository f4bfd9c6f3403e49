/** @module Makes tenant-controlled text safe to print or to open in a spreadsheet: control and bidi characters become visible escapes. */

/**
 * Bidirectional formatting characters: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069)
 * and the invisible marks (U+200E, U+200F, U+061C). They reorder what a reader sees without changing the
 * bytes, so a device named `LAPTOP\u202Eexe.cod` reads as something else ("Trojan Source", CVE-2021-42574).
 */
function isBidiControl(cp: number): boolean {
  return (
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0x200e ||
    cp === 0x200f ||
    cp === 0x061c
  )
}

/**
 * C0 controls (ESC starts terminal sequences, CR rewrites a line, BEL rings), DEL, and C1 controls: U+009B is a
 * one-character CSI on terminals that honour 8-bit controls, U+009D an OSC (window title, hyperlinks).
 * U+2028/U+2029 are line breaks to some viewers, so they could forge a new row of output.
 */
function isControl(cp: number): boolean {
  return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029
}

/** True when `text` holds a character that {@link sanitizeText} would escape. */
export function hasUnsafeChars(text: string): boolean {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    if (isControl(cp) || isBidiControl(cp)) return true
  }
  return false
}

/**
 * Replaces every control character and bidi control in tenant data with a visible escape (`\x1b`, `\x0a`,
 * `\u202e`), so a device named `"\u001b[2J evil"` prints as `\x1b[2J evil` instead of clearing the screen.
 * Escapes rather than a bare `�` because an admin investigating a hostile record wants to see what it held.
 * Newlines and tabs are escaped too: one value must stay on one line of a report.
 * Backslashes are left alone, so a name that literally contains `\x1b` looks the same as one holding ESC;
 * that ambiguity is harmless, and doubling backslashes would garble ordinary names.
 *
 * @example sanitizeText('a\u001b[31mb') // 'a\\x1b[31mb'
 */
export function sanitizeText(text: string): string {
  if (!hasUnsafeChars(text)) return text
  let out = ''
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    if (isControl(cp) || isBidiControl(cp)) {
      out += cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`
    } else {
      out += ch
    }
  }
  return out
}

/**
 * Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP "CSV Injection"):
 * `=HYPERLINK(...)` or `@SUM(...)` in a device name would run when an admin opens the export.
 */
const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r'])

/**
 * Prefixes a spreadsheet cell with `'` when it starts with a formula trigger, so it is shown as text.
 * Applies to the value before CSV quoting; `'-5` is the accepted cost for a value that was a negative number.
 */
export function neutralizeFormula(cell: string): string {
  return FORMULA_TRIGGERS.has(cell.charAt(0)) ? `'${cell}` : cell
}

/** {@link sanitizeText} then {@link neutralizeFormula}: one spreadsheet cell's text, before CSV quoting. */
export function sanitizeCell(text: string): string {
  return neutralizeFormula(sanitizeText(text))
}
