/**
 * @module Table-driven tests of plain-language questions over the demo tenant's report: each question maps to the
 * expected query, and the answer is checked against values computed from the report itself.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { Ownership, Platform } from '../domain/device.js'
import type { Category, Report, Severity, SkipReason, Suggestion } from '../domain/report.js'
import { type Answer, Answer as AnswerSchema, renderAnswerText } from './answer.js'
import { answerQuestion } from './ask.js'
import { askDataFromReport } from './ask-data.js'
import { lastActivityMs } from './queries.js'
import { CAN_ANSWER, parseQuestion } from './questions.js'
import { demoReport } from './test-support.js'

let report: Report
beforeAll(async () => {
  report = await demoReport()
}, 60_000)

const ask = (q: string, r: Report = report, previous?: Report) =>
  answerQuestion(q, askDataFromReport(r, previous))

interface Filter {
  category?: Category
  platform?: Platform
  ownership?: Ownership
  severity?: Severity
  olderThan?: number
  within?: number
}

/** An independent reading of a filter over the report, to compare the answer with. */
function expected(r: Report, f: Filter): Suggestion[] {
  const asOf = Date.parse(r.asOf)
  return r.suggestions.filter((s) => {
    const last = lastActivityMs(s.device)
    const age = last === null ? null : (asOf - last) / 86_400_000
    return (
      (!f.category || s.category === f.category) &&
      (!f.platform || s.device.platform === f.platform) &&
      (!f.ownership || s.device.ownership === f.ownership) &&
      (!f.severity || s.severity === f.severity) &&
      (f.olderThan === undefined || (age !== null && age > f.olderThan)) &&
      (f.within === undefined || (age !== null && age <= f.within))
    )
  })
}

/** A listing answers with exactly the matching suggestions, states their number, and has factors and steps when any match. */
function checkList(f: Filter) {
  return (a: Answer, r: Report) => {
    const want = expected(r, f)
    expect(a.devices.map((d) => d.suggestionId)).toEqual(want.map((s) => s.id))
    expect(want.length).toBeGreaterThan(0)
    const destructive = want.filter((s) => s.category !== 'review').length
    if (destructive > 0) expect(a.summary).toContain(`${destructive} device`)
    expect(a.factors.length).toBeGreaterThan(0)
  }
}

function checkCount(f: Filter, by?: 'category' | 'platform' | 'ownership' | 'severity') {
  return (a: Answer, r: Report) => {
    const want = expected(r, f)
    expect(a.summary).toMatch(new RegExp(`\\b${want.length}\\b`))
    if (by) {
      const counts: Record<string, number> = {}
      for (const s of want) {
        const k = by === 'category' ? s.category : by === 'severity' ? s.severity : s.device[by]
        counts[k] = (counts[k] ?? 0) + 1
      }
      expect(a.counts).toEqual(counts)
    }
  }
}

const firstOf = (r: Report, c: Category) => r.suggestions.find((s) => s.category === c)!

interface Row {
  q: string | ((r: Report) => string)
  kind: Answer['query']
  params?: Record<string, unknown>
  check?: (a: Answer, r: Report) => void
}

const SEED =
  'Find all devices that were removed from Intune but might still exist in Microsoft Entra. Provide steps to properly remove them from Entra.'

const ANSWERED: Row[] = [
  {
    q: SEED,
    kind: 'listDevices',
    params: { category: 'removedFromIntune', system: 'entra' },
    check: (a, r) => {
      checkList({ category: 'removedFromIntune' })(a, r)
      const n = expected(r, { category: 'removedFromIntune' }).length
      expect(a.summary).toBe(
        `There are ${n} devices that are no longer in Intune but still in other portals. These devices should be removed.`,
      )
      expect(a.factors).toContain('Users accessing corporate apps without MDM enrollment.')
      expect(a.steps[0]).toMatch(/^Microsoft Entra: disable \d+ objects/)
      expect(a.steps.filter((s) => /^(Intune|Windows Autopilot|Defender)/.test(s))).toEqual([])
    },
  },
  {
    q: 'Which devices were removed from Intune?',
    kind: 'listDevices',
    check: checkList({ category: 'removedFromIntune' }),
  },
  {
    q: 'Show devices that are no longer in Intune',
    kind: 'listDevices',
    check: checkList({ category: 'removedFromIntune' }),
  },
  {
    q: 'Which devices are stale?',
    kind: 'listDevices',
    params: { category: 'stale' },
    check: checkList({ category: 'stale' }),
  },
  { q: 'List the stale devices', kind: 'listDevices', check: checkList({ category: 'stale' }) },
  {
    q: 'Show me the duplicates',
    kind: 'listDevices',
    params: { category: 'duplicate' },
    check: checkList({ category: 'duplicate' }),
  },
  {
    q: 'Which devices have superseded duplicate records?',
    kind: 'listDevices',
    check: checkList({ category: 'duplicate' }),
  },
  {
    q: 'Find Defender orphans',
    kind: 'listDevices',
    params: { category: 'defenderOrphan' },
    check: checkList({ category: 'defenderOrphan' }),
  },
  {
    q: 'Which machines are known only to Defender?',
    kind: 'listDevices',
    check: checkList({ category: 'defenderOrphan' }),
  },
  {
    q: 'List Autopilot leftovers',
    kind: 'listDevices',
    params: { category: 'autopilotLeftover' },
    check: checkList({ category: 'autopilotLeftover' }),
  },
  {
    q: 'Which devices are still registered in Autopilot?',
    kind: 'listDevices',
    check: checkList({ category: 'autopilotLeftover' }),
  },
  {
    q: 'Which devices need a review?',
    kind: 'listDevices',
    params: { category: 'review' },
    check: (a, r) => {
      checkList({ category: 'review' })(a, r)
      expect(a.steps).toEqual([
        'No step to take: these devices are in use and need a review, not offboarding.',
      ])
    },
  },
  {
    q: 'Which Windows devices are flagged?',
    kind: 'listDevices',
    params: { platform: 'windows' },
    check: checkList({ platform: 'windows' }),
  },
  {
    q: 'Show flagged macOS devices',
    kind: 'listDevices',
    params: { platform: 'macOS' },
    check: checkList({ platform: 'macOS' }),
  },
  {
    q: 'Which iPhones should be offboarded?',
    kind: 'listDevices',
    params: { platform: 'iOS' },
    check: checkList({ platform: 'iOS' }),
  },
  {
    q: 'List Android devices to offboard',
    kind: 'listDevices',
    params: { platform: 'android' },
    check: checkList({ platform: 'android' }),
  },
  {
    q: 'Which personal devices are flagged?',
    kind: 'listDevices',
    params: { ownership: 'personal' },
    check: checkList({ ownership: 'personal' }),
  },
  {
    q: 'Show corporate devices that are stale',
    kind: 'listDevices',
    params: { ownership: 'company', category: 'stale' },
    check: checkList({ ownership: 'company', category: 'stale' }),
  },
  {
    q: 'Which stale Windows devices are there?',
    kind: 'listDevices',
    check: checkList({ platform: 'windows', category: 'stale' }),
  },
  {
    q: 'Which high-severity devices are flagged?',
    kind: 'listDevices',
    params: { severity: 'high' },
    check: checkList({ severity: 'high' }),
  },
  {
    q: 'Which devices have been inactive for more than 180 days?',
    kind: 'listDevices',
    params: { inactiveMoreThanDays: 180 },
    check: checkList({ olderThan: 180 }),
  },
  {
    q: "Which devices haven't been seen in 26 weeks?",
    kind: 'listDevices',
    params: { inactiveMoreThanDays: 182 },
    check: checkList({ olderThan: 182 }),
  },
  {
    q: 'Show Windows devices not seen for over 6 months',
    kind: 'listDevices',
    params: { platform: 'windows', inactiveMoreThanDays: 180 },
    check: (a, r) => {
      checkList({ platform: 'windows', olderThan: 180 })(a, r)
      expect(a.notes).toContain('6 months read as 180 days.')
    },
  },
  {
    q: 'Which flagged devices were seen in the last 30 days?',
    kind: 'listDevices',
    params: { activeWithinDays: 30 },
    check: checkList({ within: 30 }),
  },
  {
    q: 'Which devices were last seen more than 200 days ago?',
    kind: 'listDevices',
    check: checkList({ olderThan: 200 }),
  },
  {
    q: 'How many devices are stale?',
    kind: 'countDevices',
    params: { category: 'stale' },
    check: checkCount({ category: 'stale' }),
  },
  { q: 'How many devices should be offboarded?', kind: 'countDevices', check: checkCount({}) },
  {
    q: 'How many devices are there?',
    kind: 'countDevices',
    check: (a, r) => {
      checkCount({})(a, r)
      expect(a.notes).toContain(
        `The run evaluated ${r.summary.counts.devices} devices in all; ${r.suggestions.length} of them are flagged.`,
      )
    },
  },
  { q: 'Are there any duplicates?', kind: 'listDevices', check: checkList({ category: 'duplicate' }) },
  { q: 'Show review items', kind: 'listDevices', check: checkList({ category: 'review' }) },
  {
    q: 'How many devices per category?',
    kind: 'countDevices',
    params: { by: 'category' },
    check: checkCount({}, 'category'),
  },
  {
    q: 'How many flagged devices by platform?',
    kind: 'countDevices',
    params: { by: 'platform' },
    check: checkCount({}, 'platform'),
  },
  {
    q: 'Number of Windows devices removed from Intune',
    kind: 'countDevices',
    check: checkCount({ platform: 'windows', category: 'removedFromIntune' }),
  },
  { q: 'Count the personal devices', kind: 'countDevices', check: checkCount({ ownership: 'personal' }) },
  {
    q: 'How many duplicates are there broken down by severity?',
    kind: 'countDevices',
    check: checkCount({ category: 'duplicate' }, 'severity'),
  },
  {
    q: 'Summarise the latest run',
    kind: 'summary',
    check: (a, r) => {
      expect(a.summary).toBe(r.summary.text)
      expect(a.counts.suggestions).toBe(r.suggestions.length)
    },
  },
  {
    q: 'Give me an overview',
    kind: 'summary',
    check: (a, r) => expect(a.factors).toEqual(r.summary.factors),
  },
  { q: 'What did the run find?', kind: 'summary' },
  {
    q: (r) => `Why is ${firstOf(r, 'removedFromIntune').device.displayName} flagged?`,
    kind: 'explainDevice',
    check: (a, r) => {
      const s = firstOf(r, 'removedFromIntune')
      expect(a.devices.map((d) => d.suggestionId)).toEqual([s.id])
      expect(a.summary).toContain(s.rationale)
      expect(
        a.details.some((d) =>
          d.startsWith(`Evidence: ${s.evidence[0]!.source} record ${s.evidence[0]!.recordId}`),
        ),
      ).toBe(true)
      expect(a.steps).toHaveLength(s.actions.length)
    },
  },
  {
    q: (r) => `why was ${firstOf(r, 'stale').device.displayName!.toLowerCase()} flagged`,
    kind: 'explainDevice',
    check: (a, r) => expect(a.devices[0]!.suggestionId).toBe(firstOf(r, 'stale').id),
  },
  {
    q: (r) => `Explain ${firstOf(r, 'duplicate').id}`,
    kind: 'explainDevice',
    check: (a, r) => expect(a.devices.map((d) => d.suggestionId)).toEqual([firstOf(r, 'duplicate').id]),
  },
  {
    q: (r) =>
      `Tell me about ${firstOf(r, 'stale').device.ids.entraObjectId ?? firstOf(r, 'stale').device.records[0]!.id}`,
    kind: 'explainDevice',
    check: (a, r) => expect(a.devices[0]!.suggestionId).toBe(firstOf(r, 'stale').id),
  },
  {
    q: (r) => `Why is ${r.skipped.find((s) => s.reason === 'hybridJoined')!.device.displayName} skipped?`,
    kind: 'explainDevice',
    check: (a) => {
      expect(a.devices[0]!.state).toBe('skipped')
      expect(a.summary).toContain('out of scope (hybridJoined)')
    },
  },
  {
    q: 'Why is NO-SUCH-DEVICE-42 flagged?',
    kind: 'explainDevice',
    check: (a) => {
      expect(a.devices).toEqual([])
      expect(a.summary).toContain('No device "NO-SUCH-DEVICE-42"')
    },
  },
  {
    q: (r) => `What happens if I disable ${firstOf(r, 'removedFromIntune').device.displayName}?`,
    kind: 'whatIfDisable',
    check: (a, r) => {
      const s = firstOf(r, 'removedFromIntune')
      const disable = s.actions.find((x) => x.operation === 'disable')!
      expect(a.steps[0]).toContain(`offboard act --suggestion ${s.id}`)
      expect(a.steps[0]).toContain(disable.target)
      expect(a.summary).toContain('Nothing has been done.')
      expect(a.details.join(' ')).toMatch(/reversible/)
      expect(a.details.join(' ')).toMatch(/does not wipe, retire or delete/)
    },
  },
  {
    q: (r) => `What would disabling ${firstOf(r, 'review').device.displayName} do?`,
    kind: 'whatIfDisable',
    check: (a) => {
      expect(a.steps).toEqual([])
      expect(a.summary).toMatch(/would not disable/)
    },
  },
  {
    q: 'What changed since the last run?',
    kind: 'changesSinceLastRun',
    check: (a) => expect(a.summary).toMatch(/--previous FILE/),
  },
  {
    q: 'Which devices were skipped?',
    kind: 'skippedDevices',
    check: (a, r) => expect(a.devices).toHaveLength(r.skipped.length),
  },
  {
    q: 'Which hybrid-joined devices were skipped?',
    kind: 'skippedDevices',
    params: { reason: 'hybridJoined' },
    check: (a, r) =>
      expect(a.devices).toHaveLength(
        r.skipped.filter((s) => s.reason === ('hybridJoined' satisfies SkipReason)).length,
      ),
  },
  {
    q: 'Show the Teams phones that are out of scope',
    kind: 'skippedDevices',
    params: { reason: 'teamsPhone' },
  },
  {
    q: 'Which devices could not be judged?',
    kind: 'undeterminedDevices',
    check: (a, r) => expect(a.devices).toHaveLength(r.undetermined.length),
  },
  {
    q: 'Which tasks are in progress?',
    kind: 'tasksByStatus',
    params: { status: 'inProgress' },
    check: (a) => expect(a.summary).toMatch(/kept in the store/),
  },
]

/** Must be refused, with the list of what can be answered. */
const REFUSED: string[] = [
  '',
  "What's the weather in Paris?",
  'Which users have the most devices?',
  'Delete all stale devices',
  'Disable LT-0107',
  'Which devices are non-compliant?',
  'Which stale devices have BitLocker enabled?',
  'Which devices are in Entra but not in Defender?',
  'What happens if I delete LT-0107?',
  'How many stale duplicates are there?',
  'Show Windows and macOS devices',
  'Which devices were enrolled last week?',
  'Who owns LT-0107?',
  'Offboard everything older than a year',
  'Which Windows 11 devices are stale?',
  'Who is assigned to task 3?',
  "Which company devices haven't checked in for 90 days?",
]

describe('questions over the demo tenant', () => {
  it('has at least 40 questions, at least 8 of them refused', () => {
    expect(ANSWERED.length + REFUSED.length).toBeGreaterThanOrEqual(40)
    expect(REFUSED.length).toBeGreaterThanOrEqual(8)
  })

  it.each(
    ANSWERED.map(
      (row, i) => [typeof row.q === 'string' ? row.q : `row ${i} (a device of the report)`, row] as const,
    ),
  )('%s', (_label, row) => {
    const q = typeof row.q === 'string' ? row.q : row.q(report)
    const a = ask(q)
    expect(a.answered, a.summary).toBe(true)
    expect(a.query).toBe(row.kind)
    if (row.params) expect(a.params).toMatchObject(row.params)
    row.check?.(a, report)
    // The structured answer is the published shape, and the text rendering carries the summary.
    expect(AnswerSchema.parse(a)).toEqual(a)
    expect(renderAnswerText(a)).toContain(a.summary.slice(0, 40))
  })

  it.each(REFUSED)('refuses %j and lists what it can answer', (q) => {
    const a = ask(q)
    expect(a.answered).toBe(false)
    expect(a.query).toBeNull()
    expect(a.devices).toEqual([])
    expect(a.canAnswer).toEqual(CAN_ANSWER)
    const text = renderAnswerText(a)
    expect(text).toContain('I can answer questions like these:')
    expect(text).toContain('What changed since the last run?')
  })

  it('names the word it could not place, and says it does not guess', () => {
    const parsed = parseQuestion('Which stale devices have BitLocker enabled?')
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/"bitlocker".*does not guess/) })
  })

  it('never acts: an imperative is refused with the command that would act', () => {
    expect(ask('Disable all stale devices').summary).toMatch(/offboard act/)
  })

  it('prints tenant names as data: control characters are escaped in text output', () => {
    const r = structuredClone(report)
    const s = r.suggestions.find((x) => x.category === 'stale')!
    s.device.displayName = 'EVIL\u001b[2J\u202eNAME'
    const text = renderAnswerText(ask('Which devices are stale?', r))
    expect(text).not.toContain('\u001b')
    expect(text).not.toContain('\u202e')
    expect(text).toContain('EVIL\\x1b[2J\\u202eNAME')
  })

  it('compares two reports: new, resolved and recategorised devices', () => {
    const before = structuredClone(report)
    const after = structuredClone(report)
    const gone = after.suggestions.shift()!
    const added = before.suggestions.pop()!
    const moved = after.suggestions.find((s) => s.category === 'stale')!
    before.suggestions.find((s) => s.id === moved.id)!.category = 'removedFromIntune'
    const a = ask('What changed since the last run?', after, before)
    expect(a.query).toBe('changesSinceLastRun')
    const by = (c: string) => a.changes.filter((x) => x.change === c).map((x) => x.suggestionId)
    expect(by('new')).toEqual([added.id])
    expect(by('resolved')).toEqual([gone.id])
    expect(by('recategorised')).toEqual([moved.id])
    expect(a.counts).toMatchObject({ new: 1, resolved: 1, recategorised: 1 })
  })

  it('gives the same answer to the same question (deterministic)', () => {
    expect(ask(SEED)).toEqual(ask(SEED))
  })
})
