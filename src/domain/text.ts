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
 * joined (V8's cons strings, 32 bytes a node): an ISO timestamp of eight pieces took about 300 bytes instead of 50.
 * Kept in a report at a million devices, those trees were millions of objects for the garbage collector to copy.
 * Reading a character of a tree makes V8 flatten it in place; the collector then points at the flat text and drops
 * the tree. The character goes to `flattenSink`, so that the optimiser cannot drop the read as unused: it did drop
 * `Number(text)`, which this used before and which then flattened nothing in optimised code (1M timestamps kept:
 * 295 MB of heap against 53 MB). Where an engine does not flatten, the text is unchanged and only the saving is lost.
 */
export function flatten(text: string): string {
  flattenSink ^= text.charCodeAt(0) | 0
  return text
}

/** Written by `flatten` and never read: a side effect the optimiser must keep. */
// biome-ignore lint/correctness/noUnusedVariables: a write the optimiser cannot drop, by design.
let flattenSink = 0
