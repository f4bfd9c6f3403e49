/** @module Quoting tenant strings inside our own sentences: always as data, never as markup or control sequences. */

const MAX_QUOTED = 120

/** A tenant value in double quotes with control characters escaped (JSON rules), shortened when very long. */
export function quote(value: string | null | undefined): string {
  if (value === null || value === undefined) return '(unnamed)'
  const shortened = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED - 1)}…` : value
  return JSON.stringify(shortened)
}
