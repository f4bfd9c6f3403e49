/** @module Runs every rule on every device view, enforcing the safety rules in one place rather than in each rule. */
import type { z } from 'zod'
import type { DeviceView, SourceName } from '../domain/device.js'
import type { Policy } from '../domain/policy.js'
import { InputError } from '../lib/errors.js'
import { RULES } from '../rules/index.js'
import { type Outcome, type RuleDefinition, type SourceStates, unknown } from '../rules/rule.js'
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

/** Evaluates every view. Pure: no I/O, no clock. */
export function evaluateViews(views: DeviceView[], ctx: EvaluationContext): DeviceEvaluation[] {
  const prepared = prepareRules(ctx.policy, ctx.rules)
  // One result object per (rule, shared outcome) instead of one per device: most results are a rule's constant
  // "not applicable", and every device keeps its results until the report is built (at a million devices, copying
  // them between the young and old generations was half of evaluation).
  const shared = prepared.map(() => new Map<Outcome, RuleResult>())
  const out = new Array<DeviceEvaluation>(views.length)
  for (let v = 0; v < views.length; v++) {
    const view = views[v]!
    const skip = scopeOf(view, ctx.policy, ctx.now)
    const results = new Array<RuleResult>(prepared.length)
    for (let r = 0; r < prepared.length; r++) {
      const { rule, params } = prepared[r]!
      const outcome = guard(rule, runRule(rule, view, params, ctx), ctx.sources)
      results[r] =
        outcome.kind === 'notApplicable' ? sharedResult(shared[r]!, rule, outcome) : { rule, outcome }
    }
    out[v] = { view, skip, results }
  }
  return out
}

/** Not-applicable outcomes are shared (`notApplicable` in rule.ts); so is their result object. Bounded like them. */
function sharedResult(cache: Map<Outcome, RuleResult>, rule: RuleDefinition, outcome: Outcome): RuleResult {
  let result = cache.get(outcome)
  if (result === undefined) {
    result = { rule, outcome }
    if (cache.size < 1000) cache.set(outcome, result)
  }
  return result
}

function runRule(rule: RuleDefinition, view: DeviceView, params: unknown, ctx: EvaluationContext): Outcome {
  try {
    return rule.evaluate(view, { params, now: ctx.now, sources: ctx.sources })
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
  for (const s of rule.needs) {
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
  for (const s of rule.observes) {
    if (sources[s].status === 'error') {
      return unknown(
        'source-unavailable',
        `${SOURCE_TITLE[s]} could not be read; it might show the device in use.`,
      )
    }
  }
  return outcome
}
