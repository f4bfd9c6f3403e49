/** @module zod building blocks shared by the source schemas: lenient where the APIs are, strict where data decides. */
import { z } from 'zod'
import { parseTimestamp } from '../domain/time.js'

/** Optional text: absent, null and strings are accepted (most Graph properties are nullable). */
export const text = z
  .string()
  .nullish()
  .transform((v) => v ?? null)

/** Optional boolean. */
export const flag = z
  .boolean()
  .nullish()
  .transform((v) => v ?? null)

/**
 * A Graph DateTimeOffset, converted to epoch ms. Blank, null and placeholder dates (`0001-01-01T00:00:00Z`) become
 * null ("unknown", decisions.md); text that is not a real date is a validation error naming the field.
 */
export const timestamp = z
  .string()
  .nullish()
  .transform((value, ctx) => {
    const parsed = parseTimestamp(value)
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.problem })
      return z.NEVER
    }
    return parsed.ms
  })

/** The record's key: a non-empty string. */
export const recordId = z.string().trim().min(1, 'the id is empty')
