/** @module The report contract of `offboard run --format json`: stable, versioned, published as JSON Schema. */
import { z } from 'zod'
import { Action } from './action.js'
import { Ownership, Platform, SourceName } from './device.js'

export const REPORT_SCHEMA_VERSION = 1

export const Category = z.enum([
  'removedFromIntune',
  'stale',
  'duplicate',
  'defenderOrphan',
  'autopilotLeftover',
  'review',
])
export type Category = z.infer<typeof Category>

export const Severity = z.enum(['high', 'medium', 'low'])
export type Severity = z.infer<typeof Severity>

export const SkipReason = z.enum([
  'hybridJoined',
  'sharedDevice',
  'teamsPhone',
  'systemManaged',
  'ambiguousMatch',
  'excludedByPolicy',
])
export type SkipReason = z.infer<typeof SkipReason>

export const UnknownReason = z.enum([
  'missing-permission',
  'source-unavailable',
  'field-missing',
  'unsupported-device',
])
export type UnknownReason = z.infer<typeof UnknownReason>

export const SourceStatus = z.object({
  status: z.enum(['ok', 'missing', 'error']),
  records: z.number().int().nonnegative(),
  /** Why absence-based findings on this source are not trusted (the coverage brake), or what failed. */
  warning: z.string().optional(),
})
export type SourceStatus = z.infer<typeof SourceStatus>

export const DeviceIds = z.object({
  entraObjectId: z.string().nullable(),
  entraDeviceId: z.string().nullable(),
  intuneDeviceId: z.string().nullable(),
  autopilotId: z.string().nullable(),
  defenderMachineId: z.string().nullable(),
})

export const DeviceRecordSummary = z.object({
  source: SourceName,
  id: z.string(),
  name: z.string().nullable(),
  /** The record's own activity timestamp (ISO), or null when the source has none. */
  lastActivity: z.string().nullable(),
})

export const ReportDevice = z.object({
  displayName: z.string().nullable(),
  platform: Platform,
  serialNumber: z.string().nullable(),
  ownership: Ownership,
  /** One id per source: the most recently active record of that source. */
  ids: DeviceIds,
  /** Every record joined into this device, including superseded duplicates. */
  records: z.array(DeviceRecordSummary),
})
export type ReportDevice = z.infer<typeof ReportDevice>

export const Evidence = z.object({
  source: SourceName,
  /** The record's own id in that source. */
  recordId: z.string(),
  field: z.string(),
  value: z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]),
})
export type Evidence = z.infer<typeof Evidence>

export const FindingSummary = z.object({
  rule: z.string(),
  category: Category,
  severity: Severity,
  message: z.string(),
})

export const Suggestion = z.object({
  /** Deterministic: the same device and targets give the same id on every run. */
  id: z.string(),
  category: Category,
  severity: Severity,
  rationale: z.string(),
  device: ReportDevice,
  evidence: z.array(Evidence),
  /** Ordered plan (decisions.md, "The plan"); empty for `review`. */
  actions: z.array(Action),
  /** Every rule that flagged this device, the first being the one that set the category. */
  findings: z.array(FindingSummary),
})
export type Suggestion = z.infer<typeof Suggestion>

export const Skipped = z.object({
  device: ReportDevice,
  reason: SkipReason,
  note: z.string(),
  /** Categories the rules would have given this device had it been in scope. */
  wouldBe: z.array(Category),
})
export type Skipped = z.infer<typeof Skipped>

export const Undetermined = z.object({
  device: ReportDevice,
  reasons: z.array(z.object({ rule: z.string(), reason: UnknownReason, detail: z.string() })),
})
export type Undetermined = z.infer<typeof Undetermined>

export const Report = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  generator: z.object({ name: z.literal('offboard'), version: z.string() }),
  asOf: z.string(),
  tenantId: z.string().nullable(),
  sources: z.object({
    intune: SourceStatus,
    entra: SourceStatus,
    autopilot: SourceStatus,
    defender: SourceStatus,
  }),
  policy: z.object({ staleAfterDays: z.number().int(), excludeRules: z.number().int() }),
  summary: z.object({
    text: z.string(),
    factors: z.array(z.string()),
    warnings: z.array(z.string()),
    counts: z.object({
      devices: z.number().int(),
      suggestions: z.number().int(),
      byCategory: z.record(z.string(), z.number().int()),
      skipped: z.number().int(),
      bySkipReason: z.record(z.string(), z.number().int()),
      undetermined: z.number().int(),
      actions: z.number().int(),
    }),
  }),
  suggestions: z.array(Suggestion),
  skipped: z.array(Skipped),
  /** Devices a rule could not judge (missing data or an untrusted source): "unknown", never "stale". */
  undetermined: z.array(Undetermined),
})
export type Report = z.infer<typeof Report>
