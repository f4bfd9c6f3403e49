/**
 * @module The answer to a plain-language question: a structured, stable shape (`offboard ask --format json`) and
 * its text rendering in the seeds' form — a summary line, the factors, the steps, then the devices.
 */
import { z } from 'zod'
import { renderTable } from '../agent/format.js'
import { WorkStatus } from '../agent/model.js'
import { Ownership, Platform } from '../domain/device.js'
import { Category, DeviceIds, Severity } from '../domain/report.js'
import { sanitizeText } from '../report/sanitize.js'

export const ANSWER_SCHEMA_VERSION = 1

export const QueryKind = z.enum([
  'summary',
  'listDevices',
  'countDevices',
  'skippedDevices',
  'undeterminedDevices',
  'explainDevice',
  'whatIfDisable',
  'changesSinceLastRun',
  'tasksByStatus',
])
export type QueryKind = z.infer<typeof QueryKind>

/** One device in an answer, always taken from offboard's own data (never from a language model's text). */
export const AnswerDevice = z.object({
  /** The suggestion that flags it; null for a skipped or undetermined device. */
  suggestionId: z.string().nullable(),
  name: z.string().nullable(),
  platform: Platform,
  ownership: Ownership,
  state: z.enum(['flagged', 'skipped', 'undetermined']),
  category: Category.nullable(),
  severity: Severity.nullable(),
  /** The newest activity any source recorded (ISO), or null when none is known. */
  lastActivity: z.string().nullable(),
  ids: DeviceIds,
  /** The rationale, the skip note or the reasons it could not be judged. */
  reason: z.string(),
})
export type AnswerDevice = z.infer<typeof AnswerDevice>

export const AnswerTask = z.object({
  id: z.number().int(),
  suggestionId: z.string(),
  status: WorkStatus,
  assignee: z.string().nullable(),
  name: z.string().nullable(),
  category: Category,
  stillFlagged: z.boolean(),
})
export type AnswerTask = z.infer<typeof AnswerTask>

export const AnswerChange = z.object({
  change: z.enum(['new', 'resolved', 'recategorised']),
  suggestionId: z.string(),
  name: z.string().nullable(),
  category: Category,
  previousCategory: Category.nullable(),
})
export type AnswerChange = z.infer<typeof AnswerChange>

export const Answer = z.object({
  schemaVersion: z.literal(ANSWER_SCHEMA_VERSION),
  question: z.string(),
  /** False when the question was refused: `canAnswer` then lists what can be asked. */
  answered: z.boolean(),
  /** The query that answered it (null when refused). */
  query: QueryKind.nullable(),
  params: z.record(z.string(), z.unknown()),
  /** `deterministic` (offline) or `llm` (a configured model that called offboard's queries). */
  engine: z.enum(['deterministic', 'llm']),
  summary: z.string(),
  factors: z.array(z.string()),
  steps: z.array(z.string()),
  /** Counts the answer rests on (per category, platform, …), when it is a count. */
  counts: z.record(z.string(), z.number().int()),
  devices: z.array(AnswerDevice),
  /** Further lines: findings and evidence of one device, what a disable does, … */
  details: z.array(z.string()),
  tasks: z.array(AnswerTask),
  changes: z.array(AnswerChange),
  /** On a refusal: the questions offboard can answer. */
  canAnswer: z.array(z.string()),
  /** Caveats: what the data cannot show, a language model's answer that was rejected, … */
  notes: z.array(z.string()),
  basis: z.object({
    /** `store`: the tenant's latest completed run; `report`: a report file given with --report. */
    origin: z.enum(['store', 'report']),
    tenantId: z.string().nullable(),
    runId: z.string().nullable(),
    asOf: z.string(),
    previousRunId: z.string().nullable(),
  }),
})
export type Answer = z.infer<typeof Answer>

/** What a query produces; the caller adds the question, the engine and the basis. */
export type QueryResult = Pick<Answer, 'summary'> &
  Partial<
    Pick<Answer, 'factors' | 'steps' | 'counts' | 'devices' | 'details' | 'tasks' | 'changes' | 'notes'>
  >

/** Devices listed in text; JSON always carries them all. */
export const MAX_TEXT_DEVICES = 50

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '-')

/** The answer as text. Every tenant string goes through the table renderer or {@link sanitizeText}. */
export function renderAnswerText(a: Answer): string {
  const out: string[] = []
  const clean = (s: string) => sanitizeText(s)
  if (!a.answered) {
    out.push(clean(a.summary), '', 'I can answer questions like these:', ...a.canAnswer.map((q) => `- ${q}`))
    return `${out.join('\n')}\n`
  }
  out.push('Summary', clean(a.summary))
  if (a.factors.length) out.push('', 'Factors:', ...a.factors.map((f) => `- ${clean(f)}`))
  if (a.steps.length) out.push('', 'Steps:', ...a.steps.map((s, i) => `${i + 1}. ${clean(s)}`))
  if (a.details.length) out.push('', 'Details:', ...a.details.map((d) => `- ${clean(d)}`))
  if (Object.keys(a.counts).length) {
    out.push('', renderTable(['', 'count'], Object.entries(a.counts)).trimEnd())
  }
  if (a.changes.length) {
    out.push(
      '',
      `Changes (${a.changes.length}):`,
      renderTable(
        ['change', 'device', 'category', 'was', 'suggestion'],
        a.changes.map((c) => [c.change, c.name, c.category, c.previousCategory, c.suggestionId]),
      ).trimEnd(),
    )
  }
  if (a.tasks.length) {
    out.push(
      '',
      `Tasks (${a.tasks.length}):`,
      renderTable(
        ['task', 'status', 'assignee', 'device', 'category', 'still flagged', 'suggestion'],
        a.tasks.map((t) => [
          t.id,
          t.status,
          t.assignee,
          t.name,
          t.category,
          t.stillFlagged ? 'yes' : 'no',
          t.suggestionId,
        ]),
      ).trimEnd(),
    )
  }
  if (a.devices.length) {
    const shown = a.devices.slice(0, MAX_TEXT_DEVICES)
    out.push(
      '',
      `Devices (${a.devices.length}):`,
      renderTable(
        ['device', 'platform', 'ownership', 'category', 'last activity', 'suggestion'],
        shown.map((d) => [
          d.name,
          d.platform,
          d.ownership,
          d.category ?? d.state,
          day(d.lastActivity),
          d.suggestionId,
        ]),
      ).trimEnd(),
    )
    if (a.devices.length > shown.length)
      out.push(`… and ${a.devices.length - shown.length} more: --format json lists them all.`)
  }
  if (a.notes.length) out.push('', 'Notes:', ...a.notes.map((n) => `- ${clean(n)}`))
  out.push(
    '',
    `Based on ${a.basis.origin === 'store' ? `run ${a.basis.runId ?? '?'}` : 'the report file'}${a.basis.tenantId ? ` of tenant ${clean(a.basis.tenantId)}` : ''}, as of ${a.basis.asOf}${a.engine === 'llm' ? "; worded by the configured language model from offboard's queries" : ''}.`,
  )
  return `${out.join('\n')}\n`
}
