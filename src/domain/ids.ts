/** @module Normalising the ids and serial numbers that records are joined on (decisions.md, "Matching records"). */

const ZERO_GUID = /^0{8}-?0{4}-?0{4}-?0{4}-?0{12}$/

/** A GUID-like id as a join key: lower-case, trimmed; blank and all-zero GUIDs mean "not set" (reference §0.13). */
export function normalizeGuid(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null
  const text = raw.trim().toLowerCase()
  if (text === '' || ZERO_GUID.test(text)) return null
  return text
}

// Firmware placeholders that many different machines share; joining on them would merge distinct hardware.
const PLACEHOLDER_SERIALS = new Set([
  'TOBEFILLEDBYOEM',
  'TOBEFILLEDBYOEM.',
  'DEFAULTSTRING',
  'SYSTEMSERIALNUMBER',
  'NONE',
  'NULL',
  'N/A',
  'NA',
  'UNKNOWN',
  'NOTAPPLICABLE',
  'NOTSPECIFIED',
  'INVALID',
  'CHASSISSERIALNUMBER',
  'OEM',
  '0123456789',
  '123456789',
  '1234567890',
])
const MIN_SERIAL_LENGTH = 4

/**
 * A serial number as a join key: trimmed, case-insensitive, inner spaces removed.
 * Returns null for blank values, firmware placeholders ("To be filled by O.E.M.", "Default string"),
 * one repeated character ("0000000") and values too short to be unique.
 */
export function normalizeSerial(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null
  const compact = raw.trim().toUpperCase().replace(/\s+/g, '')
  if (compact.length < MIN_SERIAL_LENGTH) return null
  if (PLACEHOLDER_SERIALS.has(compact) || PLACEHOLDER_SERIALS.has(compact.replace(/[.\-_]/g, ''))) return null
  if (/^(.)\1*$/.test(compact)) return null
  return compact
}

/** Trimmed text, or null when blank. */
export function blankToNull(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null
  const text = raw.trim()
  return text === '' ? null : text
}
