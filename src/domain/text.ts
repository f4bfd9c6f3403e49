/** @module Quoting tenant strings inside our own sentences: always as data, never as markup or control sequences. */

const MAX_QUOTED = 120

/** A tenant value in double quotes with control characters escaped (JSON rules), shortened when very long. */
export function quote(value: string | null | undefined): string {
  if (value === null || value === undefined) return '(unnamed)'
  const shortened = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED - 1)}…` : value
  return JSON.stringify(shortened)
}

/**
 * `text?.toLowerCase() === lower` for a lower-case ASCII `lower`, without making the lower-cased copy: the engine
 * asks this of records of every device, and those copies were much of what it allocated. Non-ASCII text takes
 * the slow path (the Kelvin sign lower-cases to "k"). Lengths must match: the only characters that lower-case
 * into ASCII are ASCII itself and the Kelvin sign, one character each ("İ" becomes "i" and a combining dot).
 */
export function lowerCaseIs(text: string | null | undefined, lower: string): boolean {
  if (text === null || text === undefined || text.length !== lower.length) return false
  for (let k = 0; k < text.length; k++) {
    let c = text.charCodeAt(k)
    if (c >= 65 && c <= 90) c += 32
    else if (c > 127) return text.toLowerCase() === lower
    if (c !== lower.charCodeAt(k)) return false
  }
  return true
}

/** `values.includes(text?.toLowerCase() ?? '')` for lower-case ASCII values, without the lower-cased copy. */
export function lowerCaseIn(text: string | null | undefined, values: readonly string[]): boolean {
  if (text === null || text === undefined) return values.includes('')
  for (let i = 0; i < values.length; i++) if (lowerCaseIs(text, values[i]!)) return true
  return false
}

/**
 * `text`, stored as one flat string. A sentence built by template literals and joins is a tree of the pieces
 * joined (V8's cons strings); a finding's message is kept until the report is written, and at a million devices
 * those trees took three times the bytes of the text (measured: 594 against about 200 bytes per flagged device).
 * Converting a string to a number makes V8 flatten it in place; the number is discarded. Where an engine does not
 * do this, the text is unchanged and only the saving is lost.
 */
export function flatten(text: string): string {
  Number(text)
  return text
}
