/**
 * @module The questions offboard can answer, as pure query functions over one run's data, each with a zod input
 * schema. The deterministic question parser and a language model's tool calls both end here, so an answer's
 * numbers and devices always come from offboard's own data.
 */
import { z } from 'zod'
import { WorkStatus } from '../agent/model.js'
import {
  type ActionOperation,
  type ActionSystem,
  ActionSystem as ActionSystemSchema,
} from '../domain/action.js'
import { Ownership, Platform } from '../domain/device.js'
import {
  Category,
  type ReportDevice,
  Severity,
  type Skipped,
  SkipReason,
  type Suggestion,
  type Undetermined,
} from '../domain/report.js'
import { CATEGORY_PRIORITY } from '../plan/recommend.js'
import { FACTORS, summarize } from '../report/summary.js'
import type { AnswerChange, AnswerDevice, AnswerTask, QueryKind, QueryResult } from './answer.js'
import { type AskData, primaryKey } from './ask-data.js'

const DAY_MS = 86_400_000
const MAX_DAYS = 36_500

const Days = z.number().int().min(0).max(MAX_DAYS)

export const DeviceFilter = z
  .object({
    category: Category.optional().describe('only devices of this category'),
    platform: Platform.optional().describe('only devices of this platform'),
    ownership: Ownership.optional().describe('only company or personal devices'),
    severity: Severity.optional(),
    inactiveMoreThanDays: Days.optional().describe(
      'only devices whose newest activity is older than this many days',
    ),
    activeWithinDays: Days.optional().describe('only devices some source saw within this many days'),
  })
  .strict()
export type DeviceFilter = z.infer<typeof DeviceFilter>

export const ListDevicesInput = DeviceFilter.extend({
  system: ActionSystemSchema.optional().describe(
    'only the steps in this system (e.g. entra for "remove them from Entra")',
  ),
}).strict()
export const CountDevicesInput = DeviceFilter.extend({
  by: z.enum(['category', 'platform', 'ownership', 'severity']).optional().describe('group the count'),
}).strict()
export const NoInput = z.object({}).strict()
export const SkippedInput = z.object({ reason: SkipReason.optional() }).strict()
export const DeviceRef = z
  .object({
    device: z.string().trim().min(1).max(256).describe('device name, suggestion id or any record id'),
  })
  .strict()
export const TaskStatusFilter = z.enum([...WorkStatus.options, 'open'])
export const TasksInput = z.object({ status: TaskStatusFilter.optional() }).strict()

export interface QueryDefinition<S extends z.ZodType = z.ZodType> {
  kind: QueryKind
  description: string
  input: S
  run(data: AskData, params: z.output<S>): QueryResult
}

const define = <S extends z.ZodType>(q: QueryDefinition<S>): QueryDefinition =>
  q as unknown as QueryDefinition

const PLATFORM_TITLE: Record<Platform, string> = {
  windows: 'Windows',
  macOS: 'macOS',
  iOS: 'iOS/iPadOS',
  android: 'Android',
  linux: 'Linux',
  other: 'other-platform',
  unknown: 'unknown-platform',
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many)

/** The newest activity any record of the device shows, in epoch ms; null when none is known. */
export function lastActivityMs(d: ReportDevice): number | null {
  let best: number | null = null
  for (const r of d.records) {
    if (!r.lastActivity) continue
    const t = Date.parse(r.lastActivity)
    if (Number.isFinite(t) && (best === null || t > best)) best = t
  }
  return best
}

function toAnswerDevice(
  d: ReportDevice,
  state: AnswerDevice['state'],
  extra: Pick<AnswerDevice, 'suggestionId' | 'category' | 'severity' | 'reason'>,
): AnswerDevice {
  const last = lastActivityMs(d)
  return {
    ...extra,
    name: d.displayName,
    platform: d.platform,
    ownership: d.ownership,
    state,
    lastActivity: last === null ? null : new Date(last).toISOString(),
    ids: d.ids,
  }
}

export const suggestionDevice = (s: Suggestion): AnswerDevice =>
  toAnswerDevice(s.device, 'flagged', {
    suggestionId: s.id,
    category: s.category,
    severity: s.severity,
    reason: s.rationale,
  })
const skippedDevice = (s: Skipped): AnswerDevice =>
  toAnswerDevice(s.device, 'skipped', { suggestionId: null, category: null, severity: null, reason: s.note })
const undeterminedDevice = (u: Undetermined): AnswerDevice =>
  toAnswerDevice(u.device, 'undetermined', {
    suggestionId: null,
    category: null,
    severity: null,
    reason: u.reasons.map((r) => `${r.rule}: ${r.detail}`).join(' '),
  })

/** Applies a filter; devices without any known activity never match an age filter, and are counted. */
export function filterSuggestions(
  data: AskData,
  f: DeviceFilter,
): { matching: Suggestion[]; noActivity: number } {
  const asOf = Date.parse(data.asOf)
  let noActivity = 0
  const matching = data.suggestions.filter((s) => {
    if (f.category && s.category !== f.category) return false
    if (f.platform && s.device.platform !== f.platform) return false
    if (f.ownership && s.device.ownership !== f.ownership) return false
    if (f.severity && s.severity !== f.severity) return false
    if (f.inactiveMoreThanDays !== undefined || f.activeWithinDays !== undefined) {
      const last = lastActivityMs(s.device)
      if (last === null) {
        noActivity++
        return false
      }
      const days = (asOf - last) / DAY_MS
      if (f.inactiveMoreThanDays !== undefined && !(days > f.inactiveMoreThanDays)) return false
      if (f.activeWithinDays !== undefined && !(days <= f.activeWithinDays)) return false
    }
    return true
  })
  return { matching, noActivity }
}

/** "Windows, personal, high-severity devices inactive for more than 180 days", or null without a filter. */
export function describeFilter(f: DeviceFilter): string | null {
  const words: string[] = []
  if (f.severity) words.push(`${f.severity}-severity`)
  if (f.ownership) words.push(f.ownership === 'company' ? 'corporate' : 'personal')
  if (f.platform) words.push(PLATFORM_TITLE[f.platform])
  const tail: string[] = []
  if (f.inactiveMoreThanDays !== undefined) tail.push(`inactive for more than ${f.inactiveMoreThanDays} days`)
  if (f.activeWithinDays !== undefined) tail.push(`seen within ${f.activeWithinDays} days`)
  if (!words.length && !tail.length) return null
  return `${words.join(', ')}${words.length ? ' ' : ''}devices${tail.length ? ` ${tail.join(' and ')}` : ''}`
}

/** The order steps are taken in across a set of plans (decisions.md, "The plan"). */
const STEP_ORDER: readonly `${ActionSystem}.${ActionOperation}`[] = [
  'intune.retire',
  'intune.wipe',
  'intune.delete',
  'autopilot.unassignUser',
  'autopilot.delete',
  'entra.disable',
  'entra.delete',
  'defender.offboard',
  'defender.exclude',
  'activeDirectory.disable',
  'activeDirectory.delete',
]

const STEP_TEXT: Partial<Record<string, (n: string) => string>> = {
  'intune.retire': (n) => `Intune: retire ${n} (removes company data and management; personal data stays).`,
  'intune.wipe': (n) => `Intune: wipe ${n} (factory reset: irreversible).`,
  'intune.delete': (n) => `Intune: delete ${n} managed-device records (first in the documented order).`,
  'autopilot.unassignUser': (n) => `Windows Autopilot: unassign the user from ${n}.`,
  'autopilot.delete': (n) =>
    `Windows Autopilot: deregister ${n}, only after the device's Intune record is gone.`,
  'entra.disable': (n) =>
    `Microsoft Entra: disable ${n} (sign-in and device-based Conditional Access stop; reversible by enabling again).`,
  'entra.delete': (n) =>
    `Microsoft Entra: delete ${n}, only after the grace period as disabled and with BitLocker recovery keys exported (not reversible).`,
  'defender.offboard': (n) => `Defender for Endpoint: offboard ${n}.`,
  'defender.exclude': (n) =>
    `Defender for Endpoint: exclude ${n} in the portal (e.g. as "Duplicate device").`,
}

const AUTOMATION_TEXT = {
  agent: (cat: string) =>
    `offboard does this itself: 'offboard act ${cat}' shows a dry run, add --confirm to run it, 'offboard undo ACTION_ID' reverses it`,
  optIn: () =>
    "offboard runs this only when the tenant policy opts in (\"optIn\" in the policy file, then 'offboard act --policy FILE'); otherwise follow each suggestion's instructions",
  manual: () => "manual: follow the instructions of each suggestion ('offboard suggestion show ID')",
} as const

/**
 * The steps of a set of plans, merged in the documented order: one line per system and operation with how many
 * objects it concerns and who runs it.
 */
export function mergedSteps(
  suggestions: readonly Suggestion[],
  category?: Category,
  system?: ActionSystem,
): string[] {
  type Group = { count: number; automation: Map<string, number> }
  const groups = new Map<string, Group>()
  let elsewhere = 0
  for (const s of suggestions) {
    for (const a of s.actions) {
      if (system && a.system !== system) {
        elsewhere++
        continue
      }
      const key = `${a.system}.${a.operation}`
      const g = groups.get(key) ?? { count: 0, automation: new Map() }
      g.count++
      g.automation.set(a.automation, (g.automation.get(a.automation) ?? 0) + 1)
      groups.set(key, g)
    }
  }
  const rank = (k: string) => {
    const i = STEP_ORDER.indexOf(k as (typeof STEP_ORDER)[number])
    return i < 0 ? STEP_ORDER.length : i
  }
  const actTarget = category ? `--category ${category}` : '--all'
  const steps = [...groups.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([key, g]) => {
      const objects = `${g.count} ${plural(g.count, 'object', 'objects')}`
      const what = STEP_TEXT[key]?.(objects) ?? `${key.replace('.', ': ')} ${objects}.`
      const how = [...g.automation.entries()]
        .map(([level, n]) => {
          const text = AUTOMATION_TEXT[level as keyof typeof AUTOMATION_TEXT](actTarget)
          return g.automation.size > 1 ? `${n}: ${text}` : text
        })
        .join('; ')
      return `${what} How: ${how}.`
    })
  if (system && elsewhere > 0)
    steps.push(
      `${elsewhere} more ${plural(elsewhere, 'step', 'steps')} of these plans ${plural(elsewhere, 'is', 'are')} in other systems; each suggestion lists its whole plan in order.`,
    )
  if (suggestions.length > 0 && groups.size === 0 && !system)
    steps.push('No step to take: these devices are in use and need a review, not offboarding.')
  return steps
}

function factorsOf(suggestions: readonly Suggestion[]): string[] {
  const present = new Set(suggestions.map((s) => s.category))
  return [...new Set(CATEGORY_PRIORITY.filter((c) => present.has(c)).flatMap((c) => FACTORS[c]))]
}

function listDevices(data: AskData, p: z.output<typeof ListDevicesInput>): QueryResult {
  const { system, ...filter } = p
  const { matching, noActivity } = filterSuggestions(data, filter)
  const scope = describeFilter({ ...filter, category: undefined })
  const text = summarize(matching, [], 0, data.staleAfterDays).text
  const notes: string[] = []
  if (noActivity)
    notes.push(
      `${noActivity} flagged ${plural(noActivity, 'device has', 'devices have')} no known activity date and ${plural(noActivity, 'is', 'are')} left out of the age filter.`,
    )
  if (matching.length === 0 && data.suggestions.length > 0 && (scope || filter.category))
    notes.push(`The run flagged ${data.suggestions.length} devices in all; none matches this question.`)
  return {
    summary: scope ? `Among ${scope}: ${text.charAt(0).toLowerCase()}${text.slice(1)}` : text,
    factors: factorsOf(matching),
    steps: mergedSteps(matching, filter.category, system),
    devices: matching.map(suggestionDevice),
    notes,
  }
}

function countDevices(data: AskData, p: z.output<typeof CountDevicesInput>): QueryResult {
  const { by, ...filter } = p
  const { matching, noActivity } = filterSuggestions(data, filter)
  const counts: Record<string, number> = {}
  if (by) {
    for (const s of matching) {
      const key =
        by === 'category'
          ? s.category
          : by === 'platform'
            ? s.device.platform
            : by === 'ownership'
              ? s.device.ownership
              : s.severity
      counts[key] = (counts[key] ?? 0) + 1
    }
  }
  const scope = describeFilter(filter)
  const what = filter.category ? `${filter.category} suggestions` : 'flagged devices'
  const n = matching.length
  const summary =
    `There ${plural(n, 'is', 'are')} ${n} ${n === 1 ? what.replace(/s$/, '') : what}` +
    (scope ? ` among ${scope}` : '') +
    (by
      ? `, by ${by}: ${
          Object.entries(counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none'
        }`
      : '') +
    '.'
  const notes = noActivity
    ? [
        `${noActivity} flagged ${plural(noActivity, 'device has', 'devices have')} no known activity date and ${plural(noActivity, 'is', 'are')} not counted.`,
      ]
    : []
  // "How many devices are there?" may mean the whole fleet: say both numbers.
  if (!scope && !filter.category)
    notes.push(
      `The run evaluated ${data.summary.counts.devices} devices in all; ${data.suggestions.length} of them are flagged.`,
    )
  return { summary, counts, notes }
}

function summary(data: AskData): QueryResult {
  const c = data.summary.counts
  return {
    summary: data.summary.text,
    factors: data.summary.factors,
    steps: mergedSteps(data.suggestions),
    counts: {
      devices: c.devices,
      suggestions: c.suggestions,
      ...c.byCategory,
      skipped: c.skipped,
      undetermined: c.undetermined,
    },
    notes: data.summary.warnings,
  }
}

const SKIP_TEXT: Record<SkipReason, string> = {
  hybridJoined: 'hybrid-joined (act in on-premises Active Directory)',
  sharedDevice: 'shared or userless',
  teamsPhone: 'Teams phones and panels',
  systemManaged: 'system-managed objects',
  ambiguousMatch: 'ambiguous matches',
  excludedByPolicy: 'excluded by the policy or instructions',
}

function skippedDevices(data: AskData, p: z.output<typeof SkippedInput>): QueryResult {
  const counts = data.summary.counts.bySkipReason
  const n = p.reason ? (counts[p.reason] ?? 0) : data.summary.counts.skipped
  const summary =
    `${n} out-of-scope ${plural(n, 'device was', 'devices were')} skipped` +
    (p.reason ? ` as ${SKIP_TEXT[p.reason]}` : '') +
    '. offboard never acts on skipped devices.'
  if (!data.skipped)
    return {
      summary,
      counts: p.reason ? { [p.reason]: n } : counts,
      notes: [
        "The store keeps only the counts of skipped devices; to list them, run with '-o report.json' and ask with --report report.json.",
      ],
    }
  const list = data.skipped.filter((s) => !p.reason || s.reason === p.reason)
  return {
    summary,
    counts: p.reason ? { [p.reason]: list.length } : counts,
    devices: list.map(skippedDevice),
  }
}

function undeterminedDevices(data: AskData): QueryResult {
  const n = data.summary.counts.undetermined
  const summary = `${n} ${plural(n, 'device', 'devices')} could not be judged (missing data or an untrusted source) and ${plural(n, 'is', 'are')} reported as unknown, never as stale.`
  if (!data.undetermined)
    return {
      summary,
      counts: { undetermined: n },
      notes: [
        "The store keeps only the count of undetermined devices; to list them, run with '-o report.json' and ask with --report report.json.",
      ],
    }
  return { summary, devices: data.undetermined.map(undeterminedDevice) }
}

interface Found {
  flagged: Suggestion[]
  skipped: Skipped[]
  undetermined: Undetermined[]
}

const idsOf = (d: ReportDevice) =>
  [...Object.values(d.ids), ...d.records.map((r) => r.id)]
    .filter((x): x is string => Boolean(x))
    .map((x) => x.toLowerCase())
const namesOf = (d: ReportDevice) =>
  [d.displayName, ...d.records.map((r) => r.name)]
    .filter((x): x is string => Boolean(x))
    .map((x) => x.toLowerCase())

/** Exact, case-insensitive matches on a suggestion id, any record id or any name: never a guess. */
export function findDevice(data: AskData, ref: string): Found {
  const want = ref.trim().toLowerCase()
  const hit = (d: ReportDevice) => idsOf(d).includes(want) || namesOf(d).includes(want)
  return {
    flagged: data.suggestions.filter((s) => s.id.toLowerCase() === want || hit(s.device)),
    skipped: (data.skipped ?? []).filter((s) => hit(s.device)),
    undetermined: (data.undetermined ?? []).filter((u) => hit(u.device)),
  }
}

function notFound(data: AskData, ref: string): QueryResult {
  const kept = data.skipped ? 'suggestions, skipped or undetermined devices' : 'suggestions'
  return {
    summary: `No device "${ref}" is among the latest run's ${kept}.`,
    notes: [
      'Devices are matched on their exact name, suggestion id or a record id (any case); offboard does not guess at similar names.',
      `A device that is not flagged was judged healthy or was not read at all; 'offboard run' reads the tenant again.`,
    ],
  }
}

const quoteName = (d: ReportDevice) => JSON.stringify(d.displayName ?? d.records[0]?.id ?? '(no name)')

function explainDevice(data: AskData, p: z.output<typeof DeviceRef>): QueryResult {
  const found = findDevice(data, p.device)
  const total = found.flagged.length + found.skipped.length + found.undetermined.length
  if (total === 0) return notFound(data, p.device)
  const details: string[] = []
  for (const s of found.flagged) {
    details.push(
      `${quoteName(s.device)} (${s.id}) is flagged as ${s.category}, severity ${s.severity}: ${s.rationale}`,
    )
    for (const f of s.findings.slice(1)) details.push(`Also: ${f.rule} (${f.category}): ${f.message}`)
    for (const e of s.evidence)
      details.push(
        `Evidence: ${e.source} record ${e.recordId}, ${e.field} = ${Array.isArray(e.value) ? e.value.join(', ') : JSON.stringify(e.value)}`,
      )
  }
  for (const s of found.skipped)
    details.push(`${quoteName(s.device)} is out of scope (${s.reason}): ${s.note}`)
  for (const u of found.undetermined)
    details.push(
      `${quoteName(u.device)} could not be judged: ${u.reasons.map((r) => `${r.rule}: ${r.detail}`).join(' ')}`,
    )
  const first = found.flagged[0]
  const summary = first
    ? found.flagged.length === 1
      ? `${quoteName(first.device)} is flagged because: ${first.rationale}`
      : `${found.flagged.length} flagged devices match "${p.device}"; each is explained below.`
    : found.skipped[0]
      ? `${quoteName(found.skipped[0].device)} is not flagged: it is out of scope (${found.skipped[0].reason}) and never acted on.`
      : `${quoteName(found.undetermined[0]!.device)} is not flagged: offboard could not judge it.`
  return {
    summary,
    factors: factorsOf(found.flagged),
    steps: found.flagged.length === 1 ? first!.actions.map(actionLine) : [],
    devices: [
      ...found.flagged.map(suggestionDevice),
      ...found.skipped.map(skippedDevice),
      ...found.undetermined.map(undeterminedDevice),
    ],
    details,
  }
}

function actionLine(a: Suggestion['actions'][number]): string {
  return `${a.system} ${a.operation} ${JSON.stringify(a.targetName ?? a.target)} [${a.automation}]: ${a.instructions}`
}

/** What an Entra disable does and does not do (reference §2.5, §6.1; decisions.md "The plan"). */
export const DISABLE_EFFECTS = [
  'The Entra object gets accountEnabled = false: the device can no longer authenticate to Microsoft Entra ID, so users cannot sign in to an Entra-joined device with their work account and device-based Conditional Access stops granting it access (a registered mobile device loses access to Microsoft 365).',
  'It does not wipe, retire or delete anything: the Intune record, the Autopilot registration, the Defender entry and the data on the device stay as they are, and BitLocker recovery keys stay on the object.',
  "It is reversible: 'offboard undo ACTION_ID' (or Enable in the Entra admin center) turns it back on.",
  "Nothing is done by asking: 'offboard act --suggestion ID' shows a dry run first and needs --confirm and the actor role.",
]

function whatIfDisable(data: AskData, p: z.output<typeof DeviceRef>): QueryResult {
  const found = findDevice(data, p.device)
  if (found.flagged.length + found.skipped.length + found.undetermined.length === 0)
    return notFound(data, p.device)
  const details: string[] = []
  const steps: string[] = []
  let disables = 0
  for (const s of found.flagged) {
    const disable = s.actions.find((a) => a.system === 'entra' && a.operation === 'disable')
    if (disable) {
      disables++
      steps.push(
        `offboard act --suggestion ${s.id}   (dry run: shows the PATCH of Entra object ${disable.target}; add --confirm to disable it)`,
      )
      for (const w of disable.warnings) details.push(`Warning for ${quoteName(s.device)}: ${w}`)
      const before = s.actions.filter((a) => a.step < disable.step)
      if (before.length)
        details.push(
          `In the documented order, ${quoteName(s.device)}'s plan has ${before.length} ${plural(before.length, 'step', 'steps')} before the disable: ${before.map((a) => `${a.system} ${a.operation}`).join(', ')}.`,
        )
    } else if (s.actions.some((a) => a.system === 'entra' && a.operation === 'delete')) {
      details.push(
        `${quoteName(s.device)}'s Entra object is already disabled; its plan proposes deleting it after the grace period instead.`,
      )
    } else {
      details.push(
        `${quoteName(s.device)}'s plan has no Entra disable (${s.category === 'review' ? 'it is in use and needs a review' : 'no enabled Entra object is targeted'}); offboard would not disable it.`,
      )
    }
  }
  for (const s of found.skipped)
    details.push(
      `${quoteName(s.device)} is out of scope (${s.reason}): offboard does not disable it. ${s.note}`,
    )
  for (const u of found.undetermined)
    details.push(`${quoteName(u.device)} could not be judged, so offboard proposes nothing for it.`)
  const summary =
    disables > 0
      ? `Disabling ${found.flagged.length === 1 ? quoteName(found.flagged[0]!.device) : `the ${disables} matching devices`} blocks sign-in with Entra ID and device-based Conditional Access, and can be undone; nothing else changes. Nothing has been done.`
      : `offboard would not disable "${p.device}"; see the details. Nothing has been done.`
  return {
    summary,
    details: disables > 0 ? [...DISABLE_EFFECTS, ...details] : details,
    steps,
    devices: [
      ...found.flagged.map(suggestionDevice),
      ...found.skipped.map(skippedDevice),
      ...found.undetermined.map(undeterminedDevice),
    ],
  }
}

function changesSinceLastRun(data: AskData): QueryResult {
  if (!data.previous)
    return {
      summary: `offboard cannot say what changed: ${data.previousMissing ?? 'there is no earlier run.'}`,
    }
  const prevById = new Map(data.previous.suggestions.map((s) => [s.id, s]))
  const prevByKey = new Map(data.previous.suggestions.filter((s) => s.key).map((s) => [s.key!, s]))
  const matchedPrev = new Set<string>()
  const changes: AnswerChange[] = []
  for (const s of data.suggestions) {
    // A device whose plan changed gets a new suggestion id; its stable id still says it is the same device.
    const key = primaryKey(s.device)
    const before = prevById.get(s.id) ?? (key ? prevByKey.get(key) : undefined)
    if (before) {
      matchedPrev.add(before.id)
      if (before.category !== s.category)
        changes.push({
          change: 'recategorised',
          suggestionId: s.id,
          name: s.device.displayName,
          category: s.category,
          previousCategory: before.category,
        })
    } else {
      changes.push({
        change: 'new',
        suggestionId: s.id,
        name: s.device.displayName,
        category: s.category,
        previousCategory: null,
      })
    }
  }
  for (const p of data.previous.suggestions)
    if (!matchedPrev.has(p.id))
      changes.push({
        change: 'resolved',
        suggestionId: p.id,
        name: p.name,
        category: p.category,
        previousCategory: p.category,
      })
  const count = (c: AnswerChange['change']) => changes.filter((x) => x.change === c).length
  const [added, resolved, moved] = [count('new'), count('resolved'), count('recategorised')]
  const summary =
    changes.length === 0
      ? `Nothing changed since the previous run${data.previous.asOf ? ` (as of ${data.previous.asOf})` : ''}: the same ${data.suggestions.length} devices are flagged.`
      : `Since the previous run${data.previous.asOf ? ` (as of ${data.previous.asOf})` : ''}: ${added} newly flagged, ${resolved} no longer flagged, ${moved} in another category; ${data.suggestions.length} flagged now, ${data.previous.suggestions.length} before.`
  return {
    summary,
    counts: {
      new: added,
      resolved,
      recategorised: moved,
      now: data.suggestions.length,
      before: data.previous.suggestions.length,
    },
    changes,
    notes: resolved
      ? [
          'A device no longer flagged was offboarded, became active again, or left the scope; the earlier run does not say which.',
        ]
      : [],
  }
}

const STATUS_TEXT: Record<z.infer<typeof TaskStatusFilter>, string> = {
  notStarted: 'not started',
  inProgress: 'in progress',
  completed: 'completed',
  open: 'open (not completed)',
}

function tasksByStatus(data: AskData, p: z.output<typeof TasksInput>): QueryResult {
  if (!data.tasks)
    return { summary: "Tasks are kept in the store; ask without --report to see the tenant's tasks." }
  const tasks: AnswerTask[] = data.tasks
    .filter((t) => !p.status || (p.status === 'open' ? t.status !== 'completed' : t.status === p.status))
    .map((t) => ({ ...t }))
  const counts: Record<string, number> = {}
  for (const t of data.tasks) counts[t.status] = (counts[t.status] ?? 0) + 1
  const n = tasks.length
  const summary =
    `There ${plural(n, 'is', 'are')} ${n} ${p.status ? `${STATUS_TEXT[p.status]} ` : ''}${plural(n, 'task', 'tasks')}` +
    (data.tasks.length
      ? ` (${Object.entries(counts)
          .map(([k, v]) => `${STATUS_TEXT[k as WorkStatus]} ${v}`)
          .join(', ')} in all).`
      : '.') +
    (n ? ` ${tasks.filter((t) => !t.stillFlagged).length} of them no longer flagged by the latest run.` : '')
  return { summary, tasks, counts }
}

/** Every query, keyed by kind: what the question parser and the language model's tools call. */
export const QUERIES: Readonly<Record<QueryKind, QueryDefinition>> = {
  summary: define({
    kind: 'summary',
    description: "The latest run's summary: how many devices should be offboarded, per category, and why.",
    input: NoInput,
    run: (d) => summary(d),
  }),
  listDevices: define({
    kind: 'listDevices',
    description:
      'The flagged devices, optionally filtered by category, platform, ownership, severity or age of the newest activity, with the merged steps to offboard them.',
    input: ListDevicesInput,
    run: listDevices,
  }),
  countDevices: define({
    kind: 'countDevices',
    description:
      'How many flagged devices match a filter, optionally grouped by category, platform, ownership or severity.',
    input: CountDevicesInput,
    run: countDevices,
  }),
  skippedDevices: define({
    kind: 'skippedDevices',
    description:
      'Out-of-scope devices that offboard never acts on (hybrid-joined, shared, Teams phones, …), optionally by reason.',
    input: SkippedInput,
    run: skippedDevices,
  }),
  undeterminedDevices: define({
    kind: 'undeterminedDevices',
    description: 'Devices offboard could not judge (missing data, an untrusted source).',
    input: NoInput,
    run: (d) => undeterminedDevices(d),
  }),
  explainDevice: define({
    kind: 'explainDevice',
    description:
      'Why one device is flagged (or skipped, or undetermined): rationale, findings, evidence and plan.',
    input: DeviceRef,
    run: explainDevice,
  }),
  whatIfDisable: define({
    kind: 'whatIfDisable',
    description:
      "What disabling one device's Entra object would do and not do, from its plan. Performs nothing.",
    input: DeviceRef,
    run: whatIfDisable,
  }),
  changesSinceLastRun: define({
    kind: 'changesSinceLastRun',
    description: 'Devices newly flagged, no longer flagged, or in another category since the previous run.',
    input: NoInput,
    run: (d) => changesSinceLastRun(d),
  }),
  tasksByStatus: define({
    kind: 'tasksByStatus',
    description:
      "The tenant's tasks, optionally by status (notStarted, inProgress, completed, or open = not completed).",
    input: TasksInput,
    run: tasksByStatus,
  }),
}

/**
 * Runs one query with validated parameters.
 * @throws z.ZodError when the parameters do not fit the query's schema.
 */
export function runQuery(
  data: AskData,
  kind: QueryKind,
  params: unknown,
): { params: Record<string, unknown>; result: QueryResult } {
  const q = QUERIES[kind]
  const parsed = q.input.parse(params ?? {}) as Record<string, unknown>
  return { params: parsed, result: q.run(data, parsed) }
}
