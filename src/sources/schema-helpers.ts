/** @module zod building blocks shared by the source schemas: lenient where the APIs are, strict where data decides. */
import { z } from 'zod'
import { parseTimestamp } from '../domain/time.js'

/** What a direct reader returns for a value it leaves to zod (zod then also explains what is wrong with it). */
export const UNDECIDED: unique symbol = Symbol('undecided')
export type Undecided = typeof UNDECIDED

/** Reads one field's value the way its schema would, or gives up with {@link UNDECIDED}. */
export type FieldReader<Out> = (value: unknown) => Out | Undecided

const fieldReaders = new WeakMap<z.ZodType, FieldReader<unknown>>()

/**
 * Gives a field schema a direct reader: for every value it does not give up on, it must return exactly what the
 * schema outputs (schema-helpers.test.ts checks this against zod). zod builds a result object per field and per
 * check; at 100,000 devices that work was the largest cost of reading a tenant after the network itself.
 */
export function withReader<S extends z.ZodType>(schema: S, read: FieldReader<z.output<S>>): S {
  fieldReaders.set(schema, read)
  return schema
}

/**
 * A reader of a whole record for an object schema whose every field has a direct reader: zod's output (fields in
 * the schema's order, unknown fields dropped) for records it can read, {@link UNDECIDED} for any other input.
 * Null when the schema is not such an object: the caller then uses zod alone.
 */
export function directReader<S extends z.ZodType>(
  schema: S,
): ((item: unknown) => z.output<S> | Undecided) | null {
  if (!(schema instanceof z.ZodObject)) return null
  const def = schema.def
  // Only the default object: no catch-all for unknown keys (strict or passthrough) and no refinement of the whole.
  if (def.catchall !== undefined || (def.checks?.length ?? 0) > 0) return null
  const keys = Object.keys(def.shape)
  const readers: FieldReader<unknown>[] = []
  for (const key of keys) {
    const read = fieldReaders.get(def.shape[key] as z.ZodType)
    if (!read) return null
    readers.push(read)
  }
  return (item) => {
    // zod's test for an object: arrays are not records.
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return UNDECIDED
    const record = item as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      const value = readers[i]!(record[key])
      if (value === UNDECIDED) return UNDECIDED
      out[key] = value
    }
    return out as z.output<S>
  }
}

/** Optional text: absent, null and strings are accepted (most Graph properties are nullable). */
export const text = withReader(
  z
    .string()
    .nullish()
    .transform((v) => v ?? null),
  (v) => (typeof v === 'string' ? v : v == null ? null : UNDECIDED),
)

/**
 * At most this many distinct values are shared; later ones are kept as read. The pool lives as long as the process
 * (`offboard serve` reads the same tenant again and again), so it is bounded in case a field is not the small set
 * of values it is expected to be.
 */
const LABEL_POOL_LIMIT = 10_000
/** Longer text is kept as read: a label is a short name, and a long value is unlikely to repeat. */
const LABEL_MAX_LENGTH = 64
const labelPool = new Map<string, string>()

/**
 * One copy of each label value, shared by every record that holds it. `JSON.parse` makes a new string for each
 * occurrence of a value longer than a few characters, so a million records held a million copies of
 * "Windows 11 Enterprise"-like values: a sixth of the records' memory at 100,000 devices (475 → 395 bytes per
 * record, measured with `--expose-gc` and `heapUsed`).
 */
export function internLabel(value: string): string {
  const shared = labelPool.get(value)
  if (shared !== undefined) return shared
  if (labelPool.size < LABEL_POOL_LIMIT && value.length <= LABEL_MAX_LENGTH) labelPool.set(value, value)
  return value
}

/**
 * Optional text drawn from a small set of values (OS names and versions, models, states, enrolment types): as
 * {@link text}, with each value shared through {@link internLabel}.
 */
export const label = withReader(
  z
    .string()
    .nullish()
    .transform((v) => (v == null ? null : internLabel(v))),
  (v) => (typeof v === 'string' ? internLabel(v) : v == null ? null : UNDECIDED),
)

/** Optional boolean. */
export const flag = withReader(
  z
    .boolean()
    .nullish()
    .transform((v) => v ?? null),
  (v) => (typeof v === 'boolean' ? v : v == null ? null : UNDECIDED),
)

/** Optional list of strings; absent and null are the empty list. */
export const textList = withReader(
  z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? []),
  (v) => {
    if (v == null) return []
    if (!Array.isArray(v)) return UNDECIDED
    for (const item of v) if (typeof item !== 'string') return UNDECIDED
    // The parsed array itself: nothing else holds the raw record, so a copy would only be garbage.
    return v as string[]
  },
)

/**
 * A Graph DateTimeOffset, converted to epoch ms. Blank, null and placeholder dates (`0001-01-01T00:00:00Z`) become
 * null ("unknown", decisions.md); text that is not a real date is a validation error naming the field.
 */
export const timestamp = withReader(
  z
    .string()
    .nullish()
    .transform((value, ctx) => {
      const parsed = parseTimestamp(value)
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.problem })
        return z.NEVER
      }
      return parsed.ms
    }),
  (v) => {
    if (v == null) return null
    if (typeof v !== 'string') return UNDECIDED
    const parsed = parseTimestamp(v)
    return parsed.ok ? parsed.ms : UNDECIDED
  },
)

/** The record's key: a non-empty string. */
export const recordId = withReader(z.string().trim().min(1, 'the id is empty'), (v) => {
  if (typeof v !== 'string') return UNDECIDED
  const id = v.trim()
  return id === '' ? UNDECIDED : id
})
