/** @module Tests of rule preparation (params from the policy) and the engine's guard over missing, failed or untrusted sources. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  ALL_OK,
  byKey,
  daysAgo,
  healthyRecords,
  NOW,
  onlyView,
  tenantFromDevice,
} from '../../test/fixtures/tenant.js'
import { correlate } from '../correlate/correlate.js'
import { DEMO_AS_OF, writeDemoSnapshot } from '../demo/generate.js'
import { type DeviceView, recordsOf, type SourceName } from '../domain/device.js'
import { DEFAULT_POLICY, Policy } from '../domain/policy.js'
import { InputError } from '../lib/errors.js'
import { RULES } from '../rules/index.js'
import {
  defineRule,
  flag,
  type Outcome,
  pass,
  type RuleDefinition,
  type SourceStates,
} from '../rules/rule.js'
import { readSnapshot, type TenantData } from '../snapshot/read-snapshot.js'
import { assessSources } from './brakes.js'
import { type DeviceEvaluation, evaluateTenant, evaluateViews, prepareRules } from './evaluate.js'

const RULE_TEXT = {
  rationale: 'A rule made for the engine tests, not a real finding.',
  remediation: ['Nothing to do.'],
  references: ['https://example.com/offboard-tests'],
}

/** A rule that always flags every record, relying on `needs` and weighing `observes`. */
function flagRule(needs: SourceName[], observes: SourceName[]): RuleDefinition {
  return defineRule({
    id: 'test-always-flags',
    title: 'Device is flagged by the engine test rule',
    category: 'stale',
    severity: 'medium',
    needs,
    observes,
    params: z.object({}),
    ...RULE_TEXT,
    evaluate: (view) => flag('Flagged by the test rule.', [], recordsOf(view)),
  })
}

/** A rule with a staleness window and an alias, to test params resolution. */
const windowRule = defineRule({
  id: 'test-window',
  aliases: ['test-window-old-name'],
  title: 'Device is outside the test window',
  category: 'stale',
  severity: 'low',
  needs: [],
  observes: [],
  params: z.object({ staleAfterDays: z.number().int().min(30).default(90) }).strict(),
  ...RULE_TEXT,
  evaluate: () => pass('Within the window.'),
})

const healthyView = (): DeviceView => onlyView(tenantFromDevice(healthyRecords()))

function states(over: Partial<SourceStates>): SourceStates {
  return { ...ALL_OK, ...over }
}

function outcomeOf(rule: RuleDefinition, sources: SourceStates, view = healthyView()) {
  const [ev] = evaluateViews([view], { now: NOW, policy: DEFAULT_POLICY, sources, rules: [rule] })
  return ev!.results[0]!.outcome
}

function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error('expected an InputError')
}

describe('prepareRules', () => {
  it('prepares every built-in rule, in the registry order, with the default 90-day window', () => {
    const prepared = prepareRules(DEFAULT_POLICY)

    expect(prepared.map((p) => p.rule.id)).toEqual(RULES.map((r) => r.id))
    for (const p of prepared) expect(p.params).toEqual({ staleAfterDays: 90 })
  })

  it('passes the policy-wide staleAfterDays to every rule that has the parameter', () => {
    const prepared = prepareRules(Policy.parse({ staleAfterDays: 60 }))

    expect(new Set(prepared.map((p) => (p.params as { staleAfterDays: number }).staleAfterDays))).toEqual(
      new Set([60]),
    )
  })

  it('lets a per-rule override win over the policy-wide window, for that rule only', () => {
    const prepared = prepareRules(
      Policy.parse({ staleAfterDays: 60, rules: { 'stale-everywhere': { staleAfterDays: 180 } } }),
    )
    const byId = new Map(prepared.map((p) => [p.rule.id, p.params]))

    expect(byId.get('stale-everywhere')).toEqual({ staleAfterDays: 180 })
    expect(byId.get('removed-from-intune')).toEqual({ staleAfterDays: 60 })
  })

  it('gives a rule without a staleAfterDays parameter no window', () => {
    const noWindow = { ...windowRule, id: 'test-no-window', aliases: [], params: z.object({}).strict() }

    expect(prepareRules(Policy.parse({ staleAfterDays: 60 }), [noWindow])[0]!.params).toEqual({})
  })

  it('leaves out disabled rules', () => {
    const prepared = prepareRules(Policy.parse({ disabledRules: ['stale-everywhere', 'defender-orphan'] }))

    expect(prepared.map((p) => p.rule.id)).not.toContain('stale-everywhere')
    expect(prepared.map((p) => p.rule.id)).not.toContain('defender-orphan')
    expect(prepared).toHaveLength(RULES.length - 2)
  })

  it('applies an override and a disable given under a rule alias', () => {
    expect(
      prepareRules(Policy.parse({ rules: { 'test-window-old-name': { staleAfterDays: 45 } } }), [
        windowRule,
      ])[0]!.params,
    ).toEqual({
      staleAfterDays: 45,
    })
    expect(prepareRules(Policy.parse({ disabledRules: ['test-window-old-name'] }), [windowRule])).toEqual([])
  })

  it('rejects an override for an unknown rule id, naming it and listing the known rules', () => {
    const err = inputErrorOf(() =>
      prepareRules(Policy.parse({ rules: { 'no-such-rule': { staleAfterDays: 60 } } })),
    )

    expect(err.message).toContain('unknown rule id "no-such-rule"')
    expect(err.hint).toContain('Known rules: ')
    expect(err.hint).toContain('removed-from-intune')
  })

  it('rejects an unknown id in disabledRules', () => {
    const err = inputErrorOf(() => prepareRules(Policy.parse({ disabledRules: ['stale-everywhere-typo'] })))

    expect(err.message).toContain('unknown rule id "stale-everywhere-typo"')
  })

  it('rejects an override below the 30-day minimum, naming the rule and the parameter', () => {
    const err = inputErrorOf(() =>
      prepareRules(Policy.parse({ rules: { 'stale-everywhere': { staleAfterDays: 10 } } })),
    )

    expect(err.message).toContain('rules.stale-everywhere.staleAfterDays')
  })

  it('rejects an override of the wrong type', () => {
    const err = inputErrorOf(() =>
      prepareRules(Policy.parse({ rules: { 'removed-from-intune': { staleAfterDays: '120' } } })),
    )

    expect(err.message).toContain('rules.removed-from-intune.staleAfterDays')
  })

  it('rejects a parameter the rule does not have', () => {
    expect(() =>
      prepareRules(Policy.parse({ rules: { 'stale-everywhere': { staleAfterDayz: 120 } } })),
    ).toThrow(InputError)
  })
})

describe('evaluateViews', () => {
  it('runs every rule on every view, in rule order, and flags nothing on the healthy device', () => {
    const [ev] = evaluateViews([healthyView()], { now: NOW, policy: DEFAULT_POLICY, sources: ALL_OK })

    expect(ev!.skip).toBeNull()
    expect(ev!.results.map((r) => r.rule.id)).toEqual(RULES.map((r) => r.id))
    expect(ev!.results.filter((r) => r.outcome.kind === 'flag')).toEqual([])
  })

  it('still evaluates an out-of-scope device and records why it is skipped', () => {
    const d = healthyRecords()
    d.entra.trustType = 'ServerAd'

    const [ev] = evaluateViews([onlyView(tenantFromDevice(d))], {
      now: NOW,
      policy: DEFAULT_POLICY,
      sources: ALL_OK,
    })

    expect(ev!.skip?.reason).toBe('hybridJoined')
    expect(ev!.results).toHaveLength(RULES.length)
  })

  it('does not run disabled rules', () => {
    const [ev] = evaluateViews([healthyView()], {
      now: NOW,
      policy: Policy.parse({ disabledRules: ['stale-everywhere'] }),
      sources: ALL_OK,
    })

    expect(ev!.results.map((r) => r.rule.id)).not.toContain('stale-everywhere')
  })

  it('names the rule and the device when a rule throws', () => {
    const broken = defineRule({
      ...flagRule([], []),
      id: 'test-throws',
      evaluate: () => {
        throw new Error('boom')
      },
    })

    expect(() =>
      evaluateViews([healthyView()], { now: NOW, policy: DEFAULT_POLICY, sources: ALL_OK, rules: [broken] }),
    ).toThrow(`rule "test-throws" failed on device ${healthyView().key}: boom`)
  })
})

describe('the guard over sources', () => {
  it('keeps a flag when every source is connected and trusted', () => {
    expect(outcomeOf(flagRule(['intune'], ['defender']), ALL_OK).kind).toBe('flag')
  })

  it('turns a flag into unknown when a needed source is not connected', () => {
    expect(
      outcomeOf(flagRule(['intune'], []), states({ intune: { status: 'missing', trusted: false } })),
    ).toEqual({
      kind: 'unknown',
      reason: 'source-unavailable',
      detail: 'Intune is not connected, so absence from it proves nothing.',
    })
  })

  it('turns a flag into unknown when a needed source failed to load', () => {
    expect(
      outcomeOf(flagRule(['entra'], []), states({ entra: { status: 'error', trusted: false } })),
    ).toEqual({
      kind: 'unknown',
      reason: 'source-unavailable',
      detail: 'Entra ID could not be read, so absence from it proves nothing.',
    })
  })

  it('turns a flag into unknown when a needed source loaded but the coverage brake distrusts it', () => {
    expect(outcomeOf(flagRule(['intune'], []), states({ intune: { status: 'ok', trusted: false } }))).toEqual(
      {
        kind: 'unknown',
        reason: 'source-unavailable',
        detail: 'The Intune export looks incomplete (coverage brake), so absence from it proves nothing.',
      },
    )
  })

  it('turns a flag into unknown when an observed source failed to load, since it might show the device in use', () => {
    expect(
      outcomeOf(flagRule([], ['defender']), states({ defender: { status: 'error', trusted: false } })),
    ).toEqual({
      kind: 'unknown',
      reason: 'source-unavailable',
      detail: 'Defender for Endpoint could not be read; it might show the device in use.',
    })
  })

  it('keeps a flag when an observed source is simply not connected', () => {
    expect(
      outcomeOf(flagRule([], ['autopilot']), states({ autopilot: { status: 'missing', trusted: false } }))
        .kind,
    ).toBe('flag')
  })

  it('keeps a flag when a source the rule neither needs nor observes failed', () => {
    expect(
      outcomeOf(flagRule(['intune'], ['intune']), states({ defender: { status: 'error', trusted: false } }))
        .kind,
    ).toBe('flag')
  })

  it('leaves a pass untouched even when every source failed', () => {
    const allFailed: SourceStates = {
      intune: { status: 'error', trusted: false },
      entra: { status: 'error', trusted: false },
      autopilot: { status: 'error', trusted: false },
      defender: { status: 'error', trusted: false },
    }
    const passing = defineRule({ ...flagRule(['intune'], ['entra']), evaluate: () => pass('Fine.') })

    expect(outcomeOf(passing, allFailed)).toEqual({ kind: 'pass', message: 'Fine.' })
  })

  it('makes a built-in absence finding unknown when Intune is distrusted', () => {
    const d = healthyRecords()
    d.entra.approximateLastSignInDateTime = daysAgo(120)
    d.autopilot.lastContactedDateTime = daysAgo(120)
    d.defender.lastSeen = daysAgo(120)
    const view = onlyView(tenantFromDevice({ entra: d.entra, autopilot: d.autopilot, defender: d.defender }))

    const [ev] = evaluateViews([view], {
      now: NOW,
      policy: DEFAULT_POLICY,
      sources: states({ intune: { status: 'ok', trusted: false } }),
    })
    const removed = ev!.results.find((r) => r.rule.id === 'removed-from-intune')!

    expect(removed.outcome).toMatchObject({ kind: 'unknown', reason: 'source-unavailable' })
  })
})

describe('evaluateTenant', () => {
  let dir = ''
  let data: TenantData
  const now = Date.parse(DEMO_AS_OF)
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'offboard-evaluate-'))
    await writeDemoSnapshot(dir, { devices: 400, seed: 3 })
    data = await readSnapshot(dir)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('names the devices, with the results evaluateViews gives after assessSources, in the order forEach visits them', () => {
    const named = (ev: DeviceEvaluation) => ({
      key: ev.view.key,
      skip: ev.skip,
      results: ev.results
        .filter((r) => r.outcome.kind === 'flag' || r.outcome.kind === 'unknown')
        .map((r) => ({ rule: r.rule.id, outcome: r.outcome })),
    })
    const { views } = correlate(data)
    const assessment = assessSources(data, views, DEFAULT_POLICY)
    const expected = evaluateViews(views, { now, policy: DEFAULT_POLICY, sources: assessment.states })
      .map(named)
      .filter((ev) => ev.skip !== null || ev.results.length > 0)

    const evaluation = evaluateTenant(data, correlate(data), { now, policy: DEFAULT_POLICY })
    expect(evaluation.assessment).toEqual(assessment)
    expect(evaluation.devices).toBe(views.length)
    expect(evaluation.notableCount).toBe(expected.length)
    const notable = [...evaluation.notable()].map(named)
    expect([...notable].sort(byKey)).toEqual(expected)
    const visited: string[] = []
    correlate(data).forEach((view) => {
      visited.push(view.key)
    })
    const namedKeys = new Set(notable.map((ev) => ev.key))
    expect(notable.map((ev) => ev.key)).toEqual(visited.filter((key) => namedKeys.has(key)))
    // Not already in key order: the test would not tell the two orders apart.
    expect(notable.map((ev) => ev.key)).not.toEqual(expected.map((ev) => ev.key))
    // Every kind of entry is there, and most devices are not.
    const outcomes = expected.flatMap((ev) => ev.results.map((r) => r.outcome.kind))
    expect(expected.some((ev) => ev.skip !== null)).toBe(true)
    expect(outcomes).toContain('flag')
    expect(outcomes).toContain('unknown')
    expect(expected.length).toBeLessThan(views.length / 2)
  })

  it('with consume, gives the same evaluations once, then releases the correlation', () => {
    const expected = [...evaluateTenant(data, correlate(data), { now, policy: DEFAULT_POLICY }).notable()]
    const correlation = correlate(data)
    const evaluation = evaluateTenant(data, correlation, { now, policy: DEFAULT_POLICY, consume: true })
    expect([...evaluation.notable()]).toEqual(expected)
    expect(expected.length).toBeGreaterThan(0)
    expect(() => correlation.forEach(() => {})).toThrow(/the correlation was released/)
    expect(() => [...evaluation.notable()]).toThrow(/the correlation was released/)
  })

  /** A rule that flags every device, noting each detail it builds; `fail` makes building a detail throw. */
  function lazyRule(made: string[], fail = false) {
    return defineRule({
      id: 'test-lazy-detail',
      title: 'Device is flagged by the lazy test rule',
      category: 'stale',
      severity: 'medium',
      needs: [],
      observes: [],
      params: z.object({}),
      ...RULE_TEXT,
      evaluate: (view) =>
        flag(() => {
          if (fail) throw new Error('no message for this one')
          made.push(view.key)
          return { message: `Flagged ${view.key}.`, evidence: [], targets: recordsOf(view) }
        }),
    })
  }

  it("builds a finding's detail for the devices the report names, once each, and not in the pass over every device", () => {
    const made: string[] = []
    const evaluation = evaluateTenant(data, correlate(data), {
      now,
      policy: DEFAULT_POLICY,
      rules: [lazyRule(made)],
    })
    // The first pass ran the rule on every device and built no detail.
    expect(evaluation.notableCount).toBe(evaluation.devices)
    expect(made).toEqual([])
    const notable = [...evaluation.notable()]
    const keys = notable.map((ev) => ev.view.key)
    expect(made).toEqual(keys)
    const first = notable[0]!.results[0]!.outcome as Extract<Outcome, { kind: 'flag' }>
    expect({ message: first.message, evidence: first.evidence, targets: first.targets }).toEqual({
      message: `Flagged ${keys[0]}.`,
      evidence: [],
      targets: recordsOf(notable[0]!.view),
    })
    // Read again, not built again.
    expect(made).toEqual(keys)
  })

  it("names the rule and the device when building a finding's detail fails", () => {
    const evaluation = evaluateTenant(data, correlate(data), {
      now,
      policy: DEFAULT_POLICY,
      rules: [lazyRule([], true)],
    })
    expect(() => [...evaluation.notable()]).toThrow(
      /^rule "test-lazy-detail" failed on device \S+: no message for this one$/,
    )
  })
})
