/** @module Runs every rule on every device view, enforcing the safety rules in one place rather than in each rule. */
import type { z } from 'zod'
import type { Correlation } from '../correlate/correlate.js'
import type { DeviceView, SourceName } from '../domain/device.js'
import type { Policy } from '../domain/policy.js'
import { InputError } from '../lib/errors.js'
import { RULES } from '../rules/index.js'
import {
  type Outcome,
  type RuleContext,
  type RuleDefinition,
  type SourceStates,
  unknown,
} from '../rules/rule.js'
import type { TenantData } from '../snapshot/read-snapshot.js'
import { CoverageCount, type SourceAssessment } from './brakes.js'
import { type Skip, scopeOf } from './scope.js'

export interface RuleResult {
  rule: RuleDefinition
  outcome: Outcome
}

export interface DeviceEvaluation {
  view: DeviceView
  /** Set when the device is out of scope: rules still run (to say what it would have been), nothing acts on it. */
  skip: Skip | null
  results: RuleResult[]
}

export interface EvaluationContext {
  now: number
  policy: Policy
  sources: SourceStates
  rules?: readonly RuleDefinition[]
}

interface PreparedRule {
  rule: RuleDefinition
  params: unknown
}

const SOURCE_TITLE: Record<SourceName, string> = {
  intune: 'Intune',
  entra: 'Entra ID',
  autopilot: 'Windows Autopilot',
  defender: 'Defender for Endpoint',
}

/**
 * Resolves each rule's params from the policy: `staleAfterDays` everywhere, then per-rule overrides.
 * @throws InputError naming the rule and the parameter when the policy does not fit a rule's schema.
 */
export function prepareRules(policy: Policy, rules: readonly RuleDefinition[] = RULES): PreparedRule[] {
  const known = new Set(rules.flatMap((r) => [r.id, ...(r.aliases ?? [])]))
  for (const id of [...Object.keys(policy.rules), ...policy.disabledRules]) {
    if (!known.has(id)) {
      throw new InputError(
        'policy',
        [{ field: id, problem: `unknown rule id "${id}"` }],
        `Known rules: ${[...known].sort().join(', ')}.`,
      )
    }
  }
  const disabled = new Set(policy.disabledRules)
  return rules
    .filter((r) => !disabled.has(r.id) && !(r.aliases ?? []).some((a) => disabled.has(a)))
    .map((rule) => {
      const overrides =
        policy.rules[rule.id] ?? (rule.aliases ?? []).map((a) => policy.rules[a]).find(Boolean) ?? {}
      const shape = (rule.params as unknown as { shape?: Record<string, unknown> }).shape ?? {}
      const base = 'staleAfterDays' in shape ? { staleAfterDays: policy.staleAfterDays } : {}
      const parsed = (rule.params as z.ZodType).safeParse({ ...base, ...overrides })
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!
        throw new InputError('policy', [
          { field: `rules.${rule.id}.${issue.path.join('.')}`, problem: issue.message },
        ])
      }
      return { rule, params: parsed.data }
    })
}

/** Evaluates every view and keeps every result: for tests and explanations. Pure: no I/O, no clock. */
export function evaluateViews(views: DeviceView[], ctx: EvaluationContext): DeviceEvaluation[] {
  const prepared = prepareRules(ctx.policy, ctx.rules)
  const contexts = prepared.map(({ params }) => ({ params, now: ctx.now }))
  return views.map((view) => ({
    view,
    skip: scopeOf(view, ctx.policy, ctx.now),
    results: prepared.map(({ rule }, r) => ({
      rule,
      outcome: guard(rule, runRule(rule, view, contexts[r]!), ctx.sources),
    })),
  }))
}

/** What a run needs from evaluation. */
export interface TenantEvaluation {
  assessment: SourceAssessment
  /** Devices evaluated. */
  devices: number
  /** How many devices the report names: out of scope, flagged or undetermined. */
  notableCount: number
  /**
   * The devices the report names, each with only its flag and unknown results (guarded), each built when the caller
   * reaches it. In the order `Correlation.forEach` gives (input-determined, not sorted): the report sorts its entries
   * itself. In view-key order, the second pass read the records of each device from a different corner of the heap;
   * in this order it reads them about as they lie, and at a million devices evaluation took about a second less.
   * With `consume`, one pass only: each device's records are let go once its evaluation is handed over, and the
   * correlation is released at the end.
   */
  notable(): Generator<DeviceEvaluation>
}

/**
 * Assesses the sources and evaluates every device of the tenant, in two passes over its views. The first finds
 * the notable devices (out of scope, or a rule flags or cannot judge) and counts coverage; it keeps only their
 * group numbers. The second, `notable()`, builds those devices' views again and runs every rule on them, after the
 * coverage brake's verdict is known, so the guard applies at once. Keeping every notable view and its results
 * through the first pass was half of evaluation at a million devices, in the garbage collector (they survived
 * each young-generation collection and were copied twice), and 400 MB beside the tenant's records. Rules are pure,
 * so the second pass gives the results the first saw. Gives the results `evaluateViews` gives after
 * `assessSources`. Pure: no I/O, no clock.
 */
export function evaluateTenant(
  data: TenantData,
  correlation: Correlation,
  opts: { now: number; policy: Policy; rules?: readonly RuleDefinition[]; consume?: boolean },
): TenantEvaluation {
  const { now, policy } = opts
  const prepared = prepareRules(policy, opts.rules)
  const contexts = prepared.map(({ params }) => ({ params, now }))
  const coverage = new CoverageCount()
  const groups: number[] = []
  correlation.forEach((view, group) => {
    coverage.add(view)
    if (scopeOf(view, policy, now) !== null) {
      groups.push(group)
      return
    }
    for (let r = 0; r < prepared.length; r++) {
      // The verdict alone: a finding's detail is built in the second pass.
      const outcome = runRule(prepared[r]!.rule, view, contexts[r]!, false)
      if (outcome.kind === 'flag' || outcome.kind === 'unknown') {
        groups.push(group)
        return
      }
    }
  })
  const assessment = coverage.assess(data, policy)
  // The records of the devices not named are garbage from here, not only once the report is built.
  if (opts.consume) correlation.retain(groups)
  function* notable(): Generator<DeviceEvaluation> {
    try {
      for (let k = 0; k < groups.length; k++) {
        const view = correlation.view(groups[k]!)
        if (opts.consume) correlation.drop(groups[k]!)
        const skip = scopeOf(view, policy, now)
        const results: RuleResult[] = []
        for (let r = 0; r < prepared.length; r++) {
          const rule = prepared[r]!.rule
          const outcome = runRule(rule, view, contexts[r]!)
          if (outcome.kind === 'flag' || outcome.kind === 'unknown')
            results.push({ rule, outcome: guard(rule, outcome, assessment.states) })
        }
        yield { view, skip, results }
      }
    } finally {
      if (opts.consume) correlation.release()
    }
  }
  return { assessment, devices: correlation.size, notableCount: groups.length, notable }
}

/**
 * Runs one rule on one view. With `detail`, a finding's detail (built when first read, see `flag`) is built here, so
 * that a rule failing to build it is named with the device, as a rule failing to decide is.
 */
function runRule(rule: RuleDefinition, view: DeviceView, ctx: RuleContext<unknown>, detail = true): Outcome {
  try {
    const outcome = rule.evaluate(view, ctx)
    // Reading the message builds the whole detail.
    if (detail && outcome.kind === 'flag') outcome.message
    return outcome
  } catch (err) {
    throw new Error(`rule "${rule.id}" failed on device ${view.key}: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

/**
 * Safety over coverage: a flag that rests on a source which is missing, failed or untrusted becomes `unknown`.
 * A device is never flagged because a source could not be read.
 */
function guard(rule: RuleDefinition, outcome: Outcome, sources: SourceStates): Outcome {
  if (outcome.kind !== 'flag') return outcome
  for (let n = 0; n < rule.needs.length; n++) {
    const s = rule.needs[n]!
    const state = sources[s]
    if (state.status !== 'ok') {
      const what = state.status === 'missing' ? 'is not connected' : 'could not be read'
      return unknown('source-unavailable', `${SOURCE_TITLE[s]} ${what}, so absence from it proves nothing.`)
    }
    if (!state.trusted) {
      return unknown(
        'source-unavailable',
        `The ${SOURCE_TITLE[s]} export looks incomplete (coverage brake), so absence from it proves nothing.`,
      )
    }
  }
  for (let o = 0; o < rule.observes.length; o++) {
    const s = rule.observes[o]!
    if (sources[s].status === 'error') {
      return unknown(
        'source-unavailable',
        `${SOURCE_TITLE[s]} could not be read; it might show the device in use.`,
      )
    }
  }
  return outcome
}
