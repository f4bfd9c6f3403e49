/**
 * @module What questions are answered from: one run's suggestions (with, from a report file, its skipped and
 * undetermined devices), the previous run's compact suggestion list, and the tenant's tasks.
 */
import { z } from 'zod'
import type { WorkStatus } from '../agent/model.js'
import {
  Category,
  type Report,
  type ReportDevice,
  type Skipped,
  type Suggestion,
  type Undetermined,
} from '../domain/report.js'

/**
 * One suggestion of an earlier run, as the store keeps it: just enough to say what changed, so that keeping it
 * costs little even for a million-device tenant.
 */
export const RunSuggestionEntry = z.object({
  id: z.string(),
  category: Category,
  name: z.string().nullable(),
  /** One stable id of the device (`kind:id`), to follow a device whose suggestion id changed with its plan. */
  key: z.string().nullable(),
})
export type RunSuggestionEntry = z.infer<typeof RunSuggestionEntry>

/** The device's most stable id: its Entra object, else its Intune record, else any record. */
export function primaryKey(d: ReportDevice): string | null {
  if (d.ids.entraObjectId) return `entra:${d.ids.entraObjectId.toLowerCase()}`
  if (d.ids.intuneDeviceId) return `intune:${d.ids.intuneDeviceId.toLowerCase()}`
  if (d.ids.autopilotId) return `autopilot:${d.ids.autopilotId.toLowerCase()}`
  if (d.ids.defenderMachineId) return `defender:${d.ids.defenderMachineId.toLowerCase()}`
  const r = d.records[0]
  return r ? `${r.source}:${r.id.toLowerCase()}` : null
}

export interface AskTaskInfo {
  id: number
  suggestionId: string
  status: WorkStatus
  assignee: string | null
  name: string | null
  category: Category
  stillFlagged: boolean
}

export interface AskData {
  origin: 'store' | 'report'
  tenantId: string | null
  runId: string | null
  /** The instant the run measured staleness at (ISO). */
  asOf: string
  staleAfterDays: number
  summary: Report['summary']
  suggestions: Suggestion[]
  /** Null when the source does not keep them (the store keeps only counts). */
  skipped: Skipped[] | null
  undetermined: Undetermined[] | null
  /** The previous run's suggestions; null with the reason in `previousMissing`. */
  previous: { runId: string | null; asOf: string | null; suggestions: RunSuggestionEntry[] } | null
  previousMissing: string | null
  /** Null when there is no store (a report file). */
  tasks: AskTaskInfo[] | null
}

/** Questions over a report file (`offboard ask --report FILE [--previous FILE]`). */
export function askDataFromReport(report: Report, previous?: Report): AskData {
  return {
    origin: 'report',
    tenantId: report.tenantId,
    runId: null,
    asOf: report.asOf,
    staleAfterDays: report.policy.staleAfterDays,
    summary: report.summary,
    suggestions: report.suggestions,
    skipped: report.skipped,
    undetermined: report.undetermined,
    previous: previous
      ? {
          runId: null,
          asOf: previous.asOf,
          suggestions: previous.suggestions.map((s) => ({
            id: s.id,
            category: s.category,
            name: s.device.displayName,
            key: primaryKey(s.device),
          })),
        }
      : null,
    previousMissing: previous
      ? null
      : 'a report file holds one run: give the earlier report with --previous FILE, or ask without --report to use the store.',
    tasks: null,
  }
}
