/** @module Option parsers for commander: each turns bad values into a usage error that names the option. */
import { InvalidArgumentError } from 'commander'
import { parseTimestamp } from '../domain/time.js'

export function parsePositiveInt(label: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`${label} must be a whole number, got "${value}".`)
    const n = Number(value)
    if (n < 1 || n > max)
      throw new InvalidArgumentError(
        `${label} must be between 1 and ${max.toLocaleString('en-US')}, got ${n}.`,
      )
    return n
  }
}

export function parseNonNegativeInt(label: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`${label} must be a whole number, got "${value}".`)
    return Number(value)
  }
}

/** `--as-of`: an ISO 8601 date-time (a bare date means midnight UTC). */
export function parseAsOf(value: string): number {
  const parsed = parseTimestamp(value)
  if (!parsed.ok) throw new InvalidArgumentError(`${parsed.problem}; use e.g. 2026-11-01T00:00:00Z.`)
  if (parsed.ms === null) throw new InvalidArgumentError(`"${value}" is a placeholder, not a date.`)
  return parsed.ms
}
