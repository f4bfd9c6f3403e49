/** @module Tests of recommend: one suggestion, skip or "undetermined" per device, with a deterministic id and a stable order. */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  type DeviceRecords,
  daysAgo,
  healthyRecords,
  IDS,
  NOW,
  onlyView,
  tenantFromDevice,
} from '../../test/fixtures/tenant.js'
import { type DeviceView, recordsOf } from '../domain/device.js'
import { DEFAULT_POLICY } from '../domain/policy.js'
import type { Category, Severity } from '../domain/report.js'
import type { DeviceEvaluation } from '../evaluate/evaluate.js'
import { scopeOf } from '../evaluate/scope.js'
import {
  defineRule,
  flag,
  notApplicable,
  type Outcome,
  pass,
  type RuleDefinition,
  unknown,
} from '../rules/rule.js'
import { CATEGORY_PRIORITY, recommend } from './recommend.js'

function testRule(id: string, category: Category, severity: Severity): RuleDefinition {
  return defineRule({
    id,
    title: `Device is flagged by the ${id} test rule`,
    category,
    severity,
    needs: [],
    observes: [],
    params: z.object({}),
    rationale: 'A rule made for the recommend tests, not a real finding.',
    remediation: ['Nothing to do.'],
    references: ['https://example.com/offboard-tests'],
    evaluate: () => pass('unused'),
  })
}

const REMOVED = testRule('test-removed', 'removedFromIntune', 'high')
const STALE = testRule('test-stale', 'stale', 'medium')
const DUPLICATE = testRule('test-duplicate', 'duplicate', 'low')
const REVIEW = testRule('test-review', 'review', 'medium')
const REVIEW_HIGH = testRule('test-review-high', 'review', 'high')
const OTHER = testRule('test-other', 'stale', 'low')

/** The healthy device, last seen by every source `days` ago. */
function staleRecords(days = 120): DeviceRecords {
  const d = healthyRecords()
  d.intune.lastSyncDateTime = daysAgo(days)
  d.entra.approximateLastSignInDateTime = daysAgo(days)
  d.autopilot.lastContactedDateTime = daysAgo(days)
  d.defender.lastSeen = daysAgo(days)
  return d
}

const staleView = (): DeviceView => onlyView(tenantFromDevice(staleRecords()))

/** A device known only to Entra, named `name`, idle for 200 days. */
function entraOnly(name: string, i: number): DeviceView {
  const d = healthyRecords()
  const suffix = i.toString(16).padStart(12, '0')
  return onlyView(
    tenantFromDevice({
      entra: {
        ...d.entra,
        id: `e0000000-0000-4000-8000-${suffix}`,
        deviceId: `d0000000-0000-4000-8000-${suffix}`,
        displayName: name,
        approximateLastSignInDateTime: daysAgo(200),
        autopilotRegistered: false,
      },
    }),
  )
}

const flagAll = (view: DeviceView, message = 'Flagged.'): Outcome =>
  flag(
    message,
    [{ source: 'entra', recordId: view.entra[0]?.id ?? 'none', field: 'accountEnabled', value: true }],
    recordsOf(view),
  )

function evaluation(
  view: DeviceView,
  results: [RuleDefinition, Outcome][],
  skip: DeviceEvaluation['skip'] = null,
): DeviceEvaluation {
  return { view, skip, results: results.map(([rule, outcome]) => ({ rule, outcome })) }
}

const run = (evaluations: DeviceEvaluation[]) => recommend(evaluations, { now: NOW, policy: DEFAULT_POLICY })

describe('recommend', () => {
  describe('a flagged device', () => {
    it("becomes one suggestion with the rule's category and severity, the plan, the finding and its evidence", () => {
      const view = staleView()

      const { suggestions, skipped, undetermined } = run([
        evaluation(view, [[STALE, flagAll(view, 'Not seen for 120 days.')]]),
      ])

      expect(skipped).toEqual([])
      expect(undetermined).toEqual([])
      expect(suggestions).toHaveLength(1)
      const s = suggestions[0]!
      expect(s).toMatchObject({ category: 'stale', severity: 'medium', rationale: 'Not seen for 120 days.' })
      expect(s.actions.map((a) => [a.step, a.system, a.operation])).toEqual([
        [1, 'intune', 'delete'],
        [2, 'autopilot', 'unassignUser'],
        [3, 'autopilot', 'delete'],
        [4, 'entra', 'disable'],
        [5, 'defender', 'offboard'],
      ])
      expect(s.findings).toEqual([
        { rule: 'test-stale', category: 'stale', severity: 'medium', message: 'Not seen for 120 days.' },
      ])
      expect(s.evidence).toEqual([
        { source: 'entra', recordId: IDS.entraObject, field: 'accountEnabled', value: true },
      ])
      expect(s.device.displayName).toBe('LT-0107')
    })

    it('takes its category from the highest-priority flagging rule, and its severity from the most severe', () => {
      const view = staleView()

      const [s] = run([
        evaluation(view, [
          [DUPLICATE, flagAll(view, 'Duplicate.')],
          [STALE, flagAll(view, 'Stale.')],
          [OTHER, flagAll(view, 'Other.')],
        ]),
      ]).suggestions

      expect(s!.category).toBe('stale')
      expect(s!.severity).toBe('medium')
      expect(s!.findings.map((f) => f.rule)).toEqual(['test-stale', 'test-other', 'test-duplicate'])
      expect(s!.rationale).toBe('Stale. Also: Other. Duplicate.')
    })

    it('lets removedFromIntune win over stale, as the category order says', () => {
      const view = staleView()
      const removed = testRule('test-removed-low', 'removedFromIntune', 'low')

      const [s] = run([
        evaluation(view, [
          [STALE, flagAll(view)],
          [removed, flagAll(view)],
        ]),
      ]).suggestions

      expect(s!.category).toBe('removedFromIntune')
      expect(s!.severity).toBe('medium')
      expect(CATEGORY_PRIORITY.indexOf('removedFromIntune')).toBeLessThan(CATEGORY_PRIORITY.indexOf('stale'))
    })

    it('plans steps only for the records the findings target', () => {
      const view = staleView()

      const [s] = run([evaluation(view, [[DUPLICATE, flag('Old entry.', [], view.defender)]])]).suggestions

      expect(s!.actions.map((a) => [a.step, a.system, a.operation, a.target])).toEqual([
        [1, 'defender', 'exclude', IDS.defender],
      ])
    })

    it('merges the evidence of several findings without repeating an entry', () => {
      const view = staleView()

      const [s] = run([
        evaluation(view, [
          [STALE, flagAll(view)],
          [OTHER, flagAll(view)],
        ]),
      ]).suggestions

      expect(s!.evidence).toHaveLength(1)
    })
  })

  describe('suggestion ids', () => {
    it('gives the same input the same id on every run', () => {
      const idOf = () => {
        const view = staleView()
        return run([evaluation(view, [[STALE, flagAll(view)]])]).suggestions[0]!.id
      }
      const first = idOf()
      const second = idOf()

      expect(first).toMatch(/^sg-[0-9a-f]{16}$/)
      expect(second).toBe(first)
    })

    it('gives different targets different ids', () => {
      const view = staleView()

      const all = run([evaluation(view, [[STALE, flagAll(view)]])]).suggestions[0]!.id
      const entraOnlyTarget = run([evaluation(view, [[STALE, flag('Flagged.', [], view.entra)]])])
        .suggestions[0]!.id

      expect(entraOnlyTarget).not.toBe(all)
    })

    it('does not depend on the message wording', () => {
      const view = staleView()

      expect(run([evaluation(view, [[STALE, flagAll(view, 'One wording.')]])]).suggestions[0]!.id).toBe(
        run([evaluation(view, [[STALE, flagAll(view, 'Another wording.')]])]).suggestions[0]!.id,
      )
    })
  })

  describe('a destructive finding with nothing left to do', () => {
    /** The stale device whose only targeted record, the Defender machine, is already offboarded. */
    function offboardedView(): DeviceView {
      const d = staleRecords()
      d.defender.onboardingStatus = 'Offboarded'
      return onlyView(tenantFromDevice(d))
    }

    it('yields no suggestion and no undetermined entry', () => {
      const view = offboardedView()

      expect(run([evaluation(view, [[STALE, flag('Gone.', [], view.defender)]])])).toEqual({
        suggestions: [],
        skipped: [],
        undetermined: [],
      })
    })

    it('yields only the review when a review finding exists', () => {
      const view = offboardedView()

      const { suggestions } = run([
        evaluation(view, [
          [STALE, flag('Gone.', [], view.defender)],
          [REVIEW, flag('Needs a look.', [], [])],
        ]),
      ])

      expect(suggestions).toHaveLength(1)
      expect(suggestions[0]).toMatchObject({
        category: 'review',
        severity: 'medium',
        rationale: 'Needs a look.',
        actions: [],
      })
      expect(suggestions[0]!.findings.map((f) => f.rule)).toEqual(['test-review'])
    })
  })

  describe('a review finding', () => {
    it('becomes a suggestion with no actions', () => {
      const view = staleView()

      const [s] = run([evaluation(view, [[REVIEW_HIGH, flag('In use but unmanaged.', [], [])]])]).suggestions

      expect(s).toMatchObject({ category: 'review', severity: 'high', actions: [] })
    })

    it('never adds actions, even when a review rule names targets', () => {
      const view = staleView()

      const [s] = run([evaluation(view, [[REVIEW, flagAll(view)]])]).suggestions

      expect(s!.actions).toEqual([])
    })
  })

  describe('an out-of-scope device', () => {
    it('is skipped with its reason and note, and says what it would have been, in category order', () => {
      const d = staleRecords()
      d.entra.trustType = 'ServerAd'
      const view = onlyView(tenantFromDevice(d))
      const skip = scopeOf(view, DEFAULT_POLICY, NOW)

      const { suggestions, skipped } = run([
        evaluation(
          view,
          [
            [DUPLICATE, flagAll(view)],
            [STALE, flagAll(view)],
            [OTHER, flagAll(view)],
          ],
          skip,
        ),
      ])

      expect(suggestions).toEqual([])
      expect(skipped).toHaveLength(1)
      expect(skipped[0]).toMatchObject({
        reason: 'hybridJoined',
        note: skip!.note,
        wouldBe: ['stale', 'duplicate'],
      })
    })

    it('is skipped with an empty wouldBe when nothing flagged it', () => {
      const view = staleView()

      const { skipped } = run([
        evaluation(view, [[STALE, pass('Fine.')]], { reason: 'sharedDevice', note: 'Shared.' }),
      ])

      expect(skipped[0]!.wouldBe).toEqual([])
    })

    it('is skipped rather than undetermined when a rule could not judge it', () => {
      const view = staleView()

      const out = run([
        evaluation(view, [[STALE, unknown('field-missing', 'blank')]], {
          reason: 'sharedDevice',
          note: 'Shared.',
        }),
      ])

      expect(out.skipped).toHaveLength(1)
      expect(out.undetermined).toEqual([])
    })
  })

  describe('a device no rule could judge', () => {
    it('goes to undetermined with every unknown reason', () => {
      const view = staleView()

      const { suggestions, undetermined } = run([
        evaluation(view, [
          [
            STALE,
            unknown('source-unavailable', 'Intune is not connected, so absence from it proves nothing.'),
          ],
          [OTHER, notApplicable('n/a')],
          [DUPLICATE, unknown('field-missing', 'lastSeen is blank')],
        ]),
      ])

      expect(suggestions).toEqual([])
      expect(undetermined).toHaveLength(1)
      expect(undetermined[0]!.reasons).toEqual([
        {
          rule: 'test-stale',
          reason: 'source-unavailable',
          detail: 'Intune is not connected, so absence from it proves nothing.',
        },
        { rule: 'test-duplicate', reason: 'field-missing', detail: 'lastSeen is blank' },
      ])
    })

    it('is suggested, not undetermined, when another rule flags it', () => {
      const view = staleView()

      const out = run([
        evaluation(view, [
          [STALE, flagAll(view)],
          [DUPLICATE, unknown('field-missing', 'blank')],
        ]),
      ])

      expect(out.suggestions).toHaveLength(1)
      expect(out.undetermined).toEqual([])
    })

    it('is not reported at all when every rule passed or did not apply', () => {
      const view = staleView()

      expect(
        run([
          evaluation(view, [
            [STALE, pass('Fine.')],
            [OTHER, notApplicable('n/a')],
          ]),
        ]),
      ).toEqual({
        suggestions: [],
        skipped: [],
        undetermined: [],
      })
    })
  })

  describe('ordering', () => {
    it('sorts suggestions by severity, then category, then name, whatever the input order', () => {
      const views = [entraOnly('Zulu', 1), entraOnly('alpha', 2), entraOnly('Mike', 3), entraOnly('Bravo', 4)]
      const evaluations = [
        evaluation(views[0]!, [[STALE, flagAll(views[0]!)]]),
        evaluation(views[1]!, [[DUPLICATE, flagAll(views[1]!)]]),
        evaluation(views[2]!, [[REMOVED, flagAll(views[2]!)]]),
        evaluation(views[3]!, [[STALE, flagAll(views[3]!)]]),
      ]
      const expected = [
        ['high', 'removedFromIntune', 'Mike'],
        ['medium', 'stale', 'Bravo'],
        ['medium', 'stale', 'Zulu'],
        ['low', 'duplicate', 'alpha'],
      ]
      const order = (evs: DeviceEvaluation[]) =>
        run(evs).suggestions.map((s) => [s.severity, s.category, s.device.displayName])

      expect(order(evaluations)).toEqual(expected)
      expect(order([...evaluations].reverse())).toEqual(expected)
    })

    it('sorts skipped devices by reason, then name, and undetermined devices by name', () => {
      const views = [entraOnly('Charlie', 1), entraOnly('Alpha', 2), entraOnly('Bravo', 3)]
      const skips = [
        evaluation(views[0]!, [], { reason: 'sharedDevice', note: 'Shared.' }),
        evaluation(views[1]!, [], { reason: 'teamsPhone', note: 'Teams.' }),
        evaluation(views[2]!, [], { reason: 'sharedDevice', note: 'Shared.' }),
      ]
      const unknowns = views.map((v) => evaluation(v, [[STALE, unknown('field-missing', 'blank')]]))

      for (const input of [skips, [...skips].reverse()]) {
        expect(run(input).skipped.map((s) => [s.reason, s.device.displayName])).toEqual([
          ['sharedDevice', 'Bravo'],
          ['sharedDevice', 'Charlie'],
          ['teamsPhone', 'Alpha'],
        ])
      }
      for (const input of [unknowns, [...unknowns].reverse()]) {
        expect(run(input).undetermined.map((u) => u.device.displayName)).toEqual([
          'Alpha',
          'Bravo',
          'Charlie',
        ])
      }
    })

    it('orders devices whose names are equal and whose keys tie to localeCompare the same whatever the input order', () => {
      // The two ids differ by a zero-width space, which localeCompare ignores.
      expect('e-1'.localeCompare('e-\u200b1')).toBe(0)
      const withId = (id: string) => {
        const view = entraOnly('Same', 1)
        return onlyView(tenantFromDevice({ entra: { ...view.entra[0]!, id } }))
      }
      const views = [withId('e-\u200b1'), withId('e-1')]
      const skips = views.map((v) => evaluation(v, [], { reason: 'sharedDevice', note: 'Shared.' }))
      const unknowns = views.map((v) => evaluation(v, [[STALE, unknown('field-missing', 'blank')]]))
      for (const input of [skips, [...skips].reverse()])
        expect(run(input).skipped.map((s) => s.device.records[0]!.id)).toEqual(['e-1', 'e-\u200b1'])
      for (const input of [unknowns, [...unknowns].reverse()])
        expect(run(input).undetermined.map((u) => u.device.records[0]!.id)).toEqual(['e-1', 'e-\u200b1'])
    })
  })
})
