/** @module Turns rule outcomes into the report's entries: one suggestion, skip or "undetermined" per device. */
import { hash } from 'node:crypto'
import type { AnyRecord } from '../domain/device.js'
import type { Policy } from '../domain/policy.js'
import type { Category, Evidence, Severity, Skipped, Suggestion, Undetermined } from '../domain/report.js'
import { flatten } from '../domain/text.js'
import type { DeviceEvaluation, RuleResult } from '../evaluate/evaluate.js'
import { sortByRank } from '../lib/sort.js'
import { summarizeDevice } from '../report/device-summary.js'
import type { Outcome } from '../rules/rule.js'
import { buildPlan } from './plan.js'

/** When several rules flag one device, the first category in this order names the suggestion. */
export const CATEGORY_PRIORITY: readonly Category[] = [
  'removedFromIntune',
  'stale',
  'autopilotLeftover',
  'defenderOrphan',
  'duplicate',
  'review',
]
const SEVERITY_RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2 }

type Flagged = RuleResult & { outcome: Extract<Outcome, { kind: 'flag' }> }

export interface Recommendations {
  suggestions: Suggestion[]
  skipped: Skipped[]
  undetermined: Undetermined[]
}

/**
 * `evaluations` may be built as they are read (`TenantEvaluation.notable`): each is read once, in order. The entries
 * are sorted here, in an order that does not depend on the order they came in.
 */
export function recommend(
  evaluations: Iterable<DeviceEvaluation>,
  opts: { now: number; policy: Policy },
): Recommendations {
  const out: Recommendations = { suggestions: [], skipped: [], undetermined: [] }
  for (const ev of evaluations) {
    const flagged = ev.results.filter((r): r is Flagged => r.outcome.kind === 'flag')
    flagged.sort(
      (a, b) => CATEGORY_PRIORITY.indexOf(a.rule.category) - CATEGORY_PRIORITY.indexOf(b.rule.category),
    )
    if (ev.skip) {
      out.skipped.push({
        device: summarizeDevice(ev.view),
        reason: ev.skip.reason,
        note: flatten(ev.skip.note),
        wouldBe: [...new Set(flagged.map((f) => f.rule.category))],
      })
      continue
    }
    const suggestion = flagged.length ? suggestionFor(ev, flagged, opts) : null
    if (suggestion) {
      out.suggestions.push(suggestion)
      continue
    }
    const unknowns = ev.results.filter((r) => r.outcome.kind === 'unknown')
    if (unknowns.length) {
      out.undetermined.push({
        device: summarizeDevice(ev.view),
        reasons: unknowns.map((r) => {
          const o = r.outcome as Extract<Outcome, { kind: 'unknown' }>
          return { rule: r.rule.id, reason: o.reason, detail: o.detail }
        }),
      })
    }
  }
  // Each sort compares precomputed numbers and names, not the entries: at 200,000 suggestions, reaching into
  // entries spread over the heap for every comparison was most of the time spent here. Same order as comparing
  // the entries (severity, category, name, id; the sorts are stable).
  const names = (entries: { device: { displayName: string | null } }[]) =>
    entries.map((e) => e.device.displayName ?? '')
  const suggestionNames = names(out.suggestions)
  const ids = out.suggestions.map((s) => s.id)
  sortByRank(
    out.suggestions,
    (s) => SEVERITY_RANK[s.severity] * RANK_SPAN + CATEGORY_PRIORITY.indexOf(s.category),
    (a, b) => suggestionNames[a]!.localeCompare(suggestionNames[b]!) || ids[a]!.localeCompare(ids[b]!),
  )
  const skippedNames = names(out.skipped)
  const skippedKeys = lazyKeys(out.skipped)
  const reasons = [...new Set(out.skipped.map((s) => s.reason))].sort((a, b) => a.localeCompare(b))
  sortByRank(
    out.skipped,
    // The first reason that compares equal, so that reasons equal to `localeCompare` share a rank, as they tied.
    (s) => reasons.findIndex((r) => r.localeCompare(s.reason) === 0),
    (a, b) => skippedNames[a]!.localeCompare(skippedNames[b]!) || compareText(skippedKeys(a), skippedKeys(b)),
  )
  const undeterminedNames = names(out.undetermined)
  const undeterminedKeys = lazyKeys(out.undetermined)
  sortByRank(
    out.undetermined,
    () => 0,
    (a, b) =>
      undeterminedNames[a]!.localeCompare(undeterminedNames[b]!) ||
      compareText(undeterminedKeys(a), undeterminedKeys(b)),
  )
  return out
}

function suggestionFor(
  ev: DeviceEvaluation,
  flagged: Flagged[],
  opts: { now: number; policy: Policy },
): Suggestion | null {
  const destructive = flagged.filter((f) => f.rule.category !== 'review')
  let actions: Suggestion['actions'] = []
  let category: Category = 'review'
  let lead: Flagged | undefined
  if (destructive.length) {
    lead = destructive[0]!
    category = lead.rule.category
    const targets = new Set<AnyRecord>(destructive.flatMap((f) => f.outcome.targets))
    const staleAfterDays = staleDaysOf(lead, opts.policy)
    actions = buildPlan(ev.view, targets, {
      now: opts.now,
      category,
      entraDeleteGraceDays: opts.policy.entraDeleteGraceDays,
      staleAfterDays,
    })
  }
  // Nothing left to do (everything already disabled or underway): the device is not re-suggested.
  const kept = actions.length ? flagged : flagged.filter((f) => f.rule.category === 'review')
  if (kept.length === 0) return null
  if (!actions.length) {
    category = 'review'
    lead = kept[0]
  }
  const leadFinding = lead ?? kept[0]!
  const severity = kept.map((f) => f.rule.severity).sort((a, b) => SEVERITY_RANK[a] - SEVERITY_RANK[b])[0]!
  const others = kept.filter((f) => f !== leadFinding)
  const rationale = others.length
    ? flatten(`${leadFinding.outcome.message} Also: ${others.map((f) => f.outcome.message).join(' ')}`)
    : leadFinding.outcome.message
  const targetsKey = actions.map((a) => `${a.system}:${a.operation}:${a.target}`).join('|')
  return {
    // One-shot `hash`: the same digest as createHash, without a Hash object per suggestion. Flat, so that the id
    // does not keep the whole 64-digit digest (a slice refers to its parent) and a pair of string objects.
    id: flatten(`sg-${hash('sha256', `${category}|${ev.view.key}|${targetsKey}`, 'hex').slice(0, 16)}`),
    category,
    severity,
    rationale,
    device: summarizeDevice(ev.view),
    evidence: dedupeEvidence(kept.flatMap((f) => f.outcome.evidence)),
    actions,
    findings: [leadFinding, ...others].map((f) => ({
      rule: f.rule.id,
      category: f.rule.category,
      severity: f.rule.severity,
      message: f.outcome.message,
    })),
  }
}

/** More than the number of categories: severity and category as one number. */
const RANK_SPAN = 64

/** `deviceKey` of entry i, computed the first time a comparison needs it (names rarely tie). */
function lazyKeys(
  entries: { device: { records: { source: string; id: string }[] } }[],
): (i: number) => string {
  const keys = new Array<string | undefined>(entries.length)
  return (i) => {
    keys[i] ??= deviceKey(entries[i]!)
    return keys[i]
  }
}

function staleDaysOf(f: Flagged, policy: Policy): number {
  const override = policy.rules[f.rule.id]?.staleAfterDays
  return typeof override === 'number' ? override : policy.staleAfterDays
}

function dedupeEvidence(items: Evidence[]): Evidence[] {
  const seen = new Set<string>()
  return items.filter((e) => {
    const key = `${e.source}|${e.recordId}|${e.field}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * `localeCompare`, then code units where it ties: the entries come in an input-determined order
 * (`TenantEvaluation.notable`), and distinct keys can tie to `localeCompare` (ids differing by a zero-width
 * character, or one composed where the other is decomposed), which would leave their order to the input.
 */
function compareText(a: string, b: string): number {
  return a.localeCompare(b) || (a < b ? -1 : a > b ? 1 : 0)
}

function deviceKey(e: { device: { records: { source: string; id: string }[] } }): string {
  return e.device.records.map((r) => `${r.source}:${r.id}`).join(',')
}
