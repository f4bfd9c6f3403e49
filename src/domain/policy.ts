/** @module The admin's policy: thresholds, rule overrides, exclusions and brakes, validated at load. */
import { z } from 'zod'
import { parseTimestamp } from './time.js'

/** Decisions.md: never below 30 days, because Entra's activity timestamp lags by up to ~19 days. */
export const MIN_STALE_DAYS = 30
export const DEFAULT_STALE_DAYS = 90

export const ExcludeField = z.enum([
  'name',
  'platform',
  'ownership',
  'serialNumber',
  'groupTag',
  'deviceCategory',
  'defenderTag',
  'user',
])
export type ExcludeField = z.infer<typeof ExcludeField>

/** One exclusion: a device whose `field` matches `pattern` (a case-insensitive glob: `*` and `?`) is skipped. */
export const ExcludeRule = z.object({
  field: ExcludeField,
  pattern: z.string().min(1),
  /** What the admin wrote, quoted in the skip note (an instruction sentence or a policy label). */
  label: z.string().optional(),
})
export type ExcludeRule = z.infer<typeof ExcludeRule>

/** A real instant in ISO 8601 (date, or date-time with zone), strictly parsed as the APIs' dates are. */
const IsoInstant = z.string().refine((v) => {
  const t = parseTimestamp(v)
  return t.ok && t.ms !== null
}, 'must be an ISO 8601 date or date-time, e.g. 2026-10-01 or 2026-10-01T00:00:00Z')

/**
 * Leave recently enrolled devices alone: a device enrolled (Intune `enrolledDateTime`) or registered (Entra
 * `registrationDateTime`) within `withinDays` before the run's as-of time, or on or after `after`, is skipped. A
 * device whose dates are all unknown stays in scope: an unknown date proves nothing, as with the other exclusions.
 */
export const EnrollmentExclusion = z
  .object({
    withinDays: z.number().int().positive().max(3650).optional(),
    after: IsoInstant.optional(),
    /** What the admin wrote, quoted in the skip note. */
    label: z.string().optional(),
  })
  .strict()
  .refine((e) => (e.withinDays === undefined) !== (e.after === undefined), {
    message: 'give exactly one of withinDays or after',
  })
export type EnrollmentExclusion = z.infer<typeof EnrollmentExclusion>

export const Brakes = z
  .object({
    /** The coverage brake only looks at sources whose neighbours imply at least this many records. */
    minImpliedRecords: z.number().int().positive().default(10),
    /** Trip when fewer than this share of the implied records are present. */
    minMatchShare: z.number().min(0).max(1).default(0.5),
  })
  .strict()

/** Operations offboard runs only when the tenant enables them (decisions.md, "Automation levels"). */
export const OptInOperation = z.enum([
  'intune.delete',
  'intune.retire',
  'autopilot.deregister',
  'defender.offboard',
  'entra.delete',
])
export type OptInOperation = z.infer<typeof OptInOperation>

export const Policy = z
  .object({
    /** Default staleness window for every rule; per-rule `params` override it. */
    staleAfterDays: z.number().int().min(MIN_STALE_DAYS).default(DEFAULT_STALE_DAYS),
    /** Per-rule parameter overrides, keyed by rule id; each is validated against that rule's `params` schema. */
    rules: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    /** Rule ids that do not run. */
    disabledRules: z.array(z.string()).default([]),
    exclude: z.array(ExcludeRule).default([]),
    excludeEnrolled: z.array(EnrollmentExclusion).default([]),
    brakes: Brakes.default({ minImpliedRecords: 10, minMatchShare: 0.5 }),
    /** Days an Entra object stays disabled before a delete is proposed (decisions.md, "The plan"). */
    entraDeleteGraceDays: z.number().int().min(0).default(30),
    /** Opt-in operations `offboard act` may run for this tenant; empty: only the Entra disable. */
    optIn: z.array(OptInOperation).default([]),
  })
  .strict()
export type Policy = z.infer<typeof Policy>

export const DEFAULT_POLICY: Policy = Policy.parse({})
