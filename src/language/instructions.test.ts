/** @module Table-driven tests of the instruction interpreter: what each sentence changes, what is refused and why. */
import { describe, expect, it } from 'vitest'
import { daysAgo, healthyRecords, NOW, tenantFromDevice } from '../../test/fixtures/tenant.js'
import { analyze } from '../analyze.js'
import type { ExcludeField } from '../domain/policy.js'
import { DEFAULT_POLICY, Policy } from '../domain/policy.js'
import { prepareRules } from '../evaluate/evaluate.js'
import { OffboardError } from '../lib/errors.js'
import { RULES } from '../rules/index.js'
import { InstructionsError, interpretInstructions, requireAllInterpreted } from './instructions.js'
import { CATEGORY_NAMES, RULE_NAMES, resolveRules } from './rule-names.js'
import { splitSentences } from './sentences.js'

type Row =
  | { say: string; exclude: [ExcludeField, string][]; effect: string }
  | { say: string; staleAfterDays: number; effect: string }
  | { say: string; grace: number; effect: string }
  | { say: string; disabled: string[]; effect: string }
  | { say: string; enrolled: { withinDays: number } | { after: string }; effect: string }
  | { say: string; refused: string }

const DUPLICATE_RULES = ['superseded-intune-record', 'superseded-entra-object', 'superseded-defender-machine']

const ROWS: Row[] = [
  // Names
  {
    say: 'Exclude devices whose name starts with LAB-',
    exclude: [['name', 'LAB-*']],
    effect: 'name starts with "LAB-"',
  },
  {
    say: 'exclude devices whose name begins with "LAB-"',
    exclude: [['name', 'LAB-*']],
    effect: 'starts with "LAB-"',
  },
  {
    say: 'PLEASE EXCLUDE DEVICES WHOSE NAME STARTS WITH lab-',
    exclude: [['name', 'lab-*']],
    effect: '"lab-*"',
  },
  {
    say: 'Exclude devices whose name starts with \u2018LAB-\u2019',
    exclude: [['name', 'LAB-*']],
    effect: '"LAB-*"',
  },
  {
    say: 'Skip devices with names starting with KIOSK',
    exclude: [['name', 'KIOSK*']],
    effect: 'starts with "KIOSK"',
  },
  {
    say: 'Exclude devices whose name ends with -OLD',
    exclude: [['name', '*-OLD']],
    effect: 'ends with "-OLD"',
  },
  {
    say: 'Ignore machines whose name contains TEST',
    exclude: [['name', '*TEST*']],
    effect: 'contains "TEST"',
  },
  {
    say: 'Never touch devices named CEO-LAPTOP',
    exclude: [['name', 'CEO-LAPTOP']],
    effect: 'name is "CEO-LAPTOP"',
  },
  {
    say: 'Exclude devices whose name starts with LAB-??',
    exclude: [['name', 'LAB-??*']],
    effect: '"?" any one character',
  },
  // Thresholds
  {
    say: 'Treat devices inactive for more than 60 days as stale',
    staleAfterDays: 60,
    effect: 'threshold to 60 days',
  },
  {
    say: 'Consider devices that have been inactive for over 45 days as stale',
    staleAfterDays: 45,
    effect: '45 days',
  },
  { say: 'Use a 120-day threshold', staleAfterDays: 120, effect: 'threshold to 120 days (was 90)' },
  { say: 'Set the staleness threshold to 180 days', staleAfterDays: 180, effect: 'threshold to 180 days' },
  { say: 'Devices are stale after 8 weeks', staleAfterDays: 56, effect: 'threshold to 56 days' },
  { say: 'The threshold is 30 days', staleAfterDays: 30, effect: 'threshold to 30 days' },
  // Platforms
  {
    say: 'Only look at Windows and macOS',
    exclude: [
      ['platform', 'iOS'],
      ['platform', 'android'],
      ['platform', 'linux'],
      ['platform', 'other'],
    ],
    effect: 'only Windows and macOS devices are considered',
  },
  {
    say: 'Only consider iOS/iPadOS devices',
    exclude: [
      ['platform', 'windows'],
      ['platform', 'macOS'],
      ['platform', 'android'],
      ['platform', 'linux'],
      ['platform', 'other'],
    ],
    effect: 'only iOS/iPadOS devices',
  },
  {
    say: 'Exclude Android and Linux devices',
    exclude: [
      ['platform', 'android'],
      ['platform', 'linux'],
    ],
    effect: 'Skips Android and Linux devices',
  },
  {
    say: 'Leave devices running Linux alone',
    exclude: [['platform', 'linux']],
    effect: 'Skips Linux devices',
  },
  // Ownership
  {
    say: 'Never touch personal devices',
    exclude: [['ownership', 'personal']],
    effect: 'Skips personal devices',
  },
  {
    say: 'Leave corporate devices alone',
    exclude: [['ownership', 'company']],
    effect: 'Skips corporate devices',
  },
  { say: "Don't touch BYOD devices", exclude: [['ownership', 'personal']], effect: 'Skips personal devices' },
  {
    say: 'Only look at corporate devices',
    exclude: [['ownership', 'personal']],
    effect: 'only corporate devices are considered',
  },
  // Tags, categories, serials, users
  {
    say: 'Skip anything tagged Kiosk in Defender',
    exclude: [['defenderTag', 'Kiosk']],
    effect: 'Defender tag is "Kiosk"',
  },
  {
    say: 'Exclude devices with the Defender tag "Do Not Offboard"',
    exclude: [['defenderTag', 'Do Not Offboard']],
    effect: 'Defender tag is "Do Not Offboard"',
  },
  {
    say: 'Leave devices with group tag Finance alone',
    exclude: [['groupTag', 'Finance']],
    effect: 'group tag is "Finance"',
  },
  {
    say: 'Exclude devices tagged Finance in Autopilot',
    exclude: [['groupTag', 'Finance']],
    effect: 'Autopilot group tag',
  },
  {
    say: 'Exclude serial numbers starting with PF3',
    exclude: [['serialNumber', 'PF3*']],
    effect: 'serial number starts with',
  },
  {
    say: 'Exclude devices with serial number PF3KX9Q1',
    exclude: [['serialNumber', 'PF3KX9Q1']],
    effect: 'serial number is',
  },
  {
    say: "Don't touch devices in category Lab",
    exclude: [['deviceCategory', 'Lab']],
    effect: 'device category is "Lab"',
  },
  {
    say: 'Leave devices in the Lab category alone',
    exclude: [['deviceCategory', 'Lab']],
    effect: 'device category',
  },
  {
    say: 'Exclude devices of alice@contoso.com',
    exclude: [['user', 'alice@contoso.com']],
    effect: 'primary user is',
  },
  {
    say: 'Never touch devices owned by bob@contoso.com',
    exclude: [['user', 'bob@contoso.com']],
    effect: 'primary user',
  },
  {
    say: 'Exclude devices whose user ends with @contractors.contoso.com',
    exclude: [['user', '*@contractors.contoso.com']],
    effect: 'primary user ends with',
  },
  // Rules turned off
  { say: "Don't report duplicates", disabled: DUPLICATE_RULES, effect: 'no longer run or report' },
  {
    say: 'Turn off the Defender silence check',
    disabled: ['defender-silent-while-active'],
    effect: 'Turns off the rule',
  },
  { say: 'Disable the stale-everywhere rule', disabled: ['stale-everywhere'], effect: 'stale-everywhere' },
  {
    say: 'Stop flagging Autopilot leftovers',
    disabled: ['autopilot-leftover'],
    effect: 'autopilot-leftover',
  },
  // Entra delete grace period
  {
    say: 'Wait 45 days after disabling before deleting',
    grace: 45,
    effect: 'grace period to 45 days (was 30)',
  },
  { say: 'Set the grace period to 60 days', grace: 60, effect: 'only after 60 days disabled' },
  // Recent enrollment or registration
  {
    say: 'Ignore devices enrolled in the last 14 days',
    enrolled: { withinDays: 14 },
    effect: "enrolled in Intune or registered in Entra ID in the 14 days before the run's as-of time",
  },
  {
    say: 'Exclude devices registered in the past 2 weeks',
    enrolled: { withinDays: 14 },
    effect: 'excludeEnrolled withinDays 14',
  },
  {
    say: 'Leave devices enrolled within the last 30 days alone',
    enrolled: { withinDays: 30 },
    effect: 'in the 30 days before',
  },
  {
    say: "Don't touch devices that were enrolled in the last day",
    enrolled: { withinDays: 1 },
    effect: 'in the 1 day before',
  },
  {
    say: 'Ignore devices enrolled after 2026-10-01',
    enrolled: { after: '2026-10-01' },
    effect: 'on or after 2026-10-01 (UTC)',
  },
  {
    say: 'Skip machines registered since 2026-09-15',
    enrolled: { after: '2026-09-15' },
    effect: 'dates are unknown stays in scope',
  },
  // Refused
  { say: 'Delete everything older than a year', refused: 'never widens destructive actions' },
  { say: 'Wipe all personal devices', refused: 'never widens destructive actions' },
  { say: 'Use a 14-day threshold', refused: 'about 14 days (±5)' },
  { say: 'Treat devices inactive for more than 21 days as stale', refused: 'minimum of 30 days' },
  { say: 'Only look at Windows and ChromeOS', refused: '"ChromeOS" is not a platform' },
  { say: 'Exclude devices whose name starts with ""', refused: 'is empty' },
  { say: 'Exclude devices whose name contains *', refused: 'only wildcards' },
  { say: 'Ignore devices enrolled in the last 3 months', refused: 'state it as a number of days' },
  { say: 'Ignore devices enrolled in the last 0 days', refused: 'excludes nothing' },
  { say: 'Ignore devices enrolled after 10/01/2026', refused: 'write it as YYYY-MM-DD' },
  { say: 'Ignore devices enrolled after 2026-02-30', refused: 'not a date offboard can read' },
  { say: 'Wait 7 days after disabling before deleting', refused: 'shorter than 30 days' },
  { say: 'Use a 3-month threshold', refused: 'state it as a number of days' },
  { say: 'Skip anything tagged Kiosk', refused: 'Defender tag or an Autopilot group tag' },
  { say: 'Exclude devices of Finance', refused: 'sign-in address' },
  { say: 'Include personal devices again', refused: 'policy file' },
  {
    say: 'Exclude devices whose name starts with LAB- and delete the rest',
    refused: 'more than one instruction',
  },
  { say: 'Make it snappy', refused: 'could not interpret' },
  { say: 'Only look at devices whose name starts with LT-', refused: '"Only" can narrow' },
  { say: 'Use a 99999-day threshold', refused: 'looks like a typo' },
]

describe('interpretInstructions: one sentence', () => {
  it.each(ROWS)('$say', (row) => {
    const result = interpretInstructions(row.say)
    // Every sentence is accounted for, exactly once.
    expect(result.applied.length + result.refused.length).toBe(1)
    if ('refused' in row) {
      expect(result.applied).toEqual([])
      expect(result.refused[0]!.sentence).toBe(row.say)
      expect(result.refused[0]!.reason).toContain(row.refused)
      expect(result.policy).toEqual(DEFAULT_POLICY)
      return
    }
    expect(result.refused).toEqual([])
    expect(result.applied[0]!.sentence).toBe(row.say)
    expect(result.applied[0]!.effect).toContain(row.effect)
    const changed = { ...DEFAULT_POLICY }
    if ('exclude' in row) {
      changed.exclude = row.exclude.map(([field, pattern]) => ({ field, pattern, label: row.say }))
    } else if ('staleAfterDays' in row) {
      changed.staleAfterDays = row.staleAfterDays
    } else if ('grace' in row) {
      changed.entraDeleteGraceDays = row.grace
    } else if ('enrolled' in row) {
      changed.excludeEnrolled = [{ ...row.enrolled, label: row.say }]
    } else {
      changed.disabledRules = row.disabled
    }
    expect(result.policy).toEqual(changed)
    // The engine accepts the result (rule ids are known, params fit).
    expect(() => prepareRules(result.policy)).not.toThrow()
  })

  it('has at least 40 rows, 8 of them refused', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(40)
    expect(ROWS.filter((r) => 'refused' in r).length).toBeGreaterThanOrEqual(8)
  })

  it('adds one enrollment exclusion per window; repeating one changes nothing', () => {
    const result = interpretInstructions(
      'Ignore devices enrolled in the last 14 days. Skip devices registered in the past 2 weeks. Ignore devices enrolled after 2026-10-01',
    )
    expect(result.refused).toEqual([])
    expect(result.applied[1]!.effect).toContain('already has this exclusion')
    expect(result.policy.excludeEnrolled).toEqual([
      { withinDays: 14, label: 'Ignore devices enrolled in the last 14 days' },
      { after: '2026-10-01', label: 'Ignore devices enrolled after 2026-10-01' },
    ])
  })
})

describe('interpretInstructions: several sentences', () => {
  it('accounts for every sentence, in order, across periods, semicolons, newlines and bullets', () => {
    const text = [
      'Exclude devices of alice@contoso.com. Use a 120-day threshold; Delete everything older than a year.',
      '- Never touch personal devices',
      '* Make it snappy',
      '2. Turn off the Defender silence check',
      '',
    ].join('\n')
    const result = interpretInstructions(text)
    const all = [...result.applied, ...result.refused].sort((a, b) => a.index - b.index)
    expect(all.map((s) => s.sentence)).toEqual([
      'Exclude devices of alice@contoso.com',
      'Use a 120-day threshold',
      'Delete everything older than a year',
      'Never touch personal devices',
      'Make it snappy',
      'Turn off the Defender silence check',
    ])
    expect(all.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5])
    expect(result.applied.map((s) => s.index)).toEqual([0, 1, 3, 5])
    expect(result.refused.map((s) => s.index)).toEqual([2, 4])
    expect(result.policy.staleAfterDays).toBe(120)
    expect(result.policy.exclude.map((e) => e.label)).toEqual([
      'Exclude devices of alice@contoso.com',
      'Never touch personal devices',
    ])
  })

  it('refuses every sentence of a contradiction and keeps the previous value', () => {
    const result = interpretInstructions(
      'Use a 60-day threshold. Treat devices inactive for more than 120 days as stale.',
    )
    expect(result.applied).toEqual([])
    expect(result.refused.map((r) => r.reason)).toEqual([
      expect.stringContaining('Contradicts "Treat devices inactive for more than 120 days as stale"'),
      expect.stringContaining('Contradicts "Use a 60-day threshold"'),
    ])
    expect(result.refused[0]!.reason).toContain('stays at 90 days')
    expect(result.policy.staleAfterDays).toBe(90)
  })

  it('refuses contradicting "only" sentences, which together would exclude everything', () => {
    const result = interpretInstructions('Only look at Windows\nOnly look at macOS')
    expect(result.refused.map((r) => r.reason)).toEqual([
      expect.stringContaining('Contradicts'),
      expect.stringContaining('Contradicts'),
    ])
    expect(result.policy.exclude).toEqual([])
  })

  it('applies the same value said twice', () => {
    const result = interpretInstructions('Use a 60-day threshold. Set the staleness threshold to 60 days.')
    expect(result.refused).toEqual([])
    expect(result.policy.staleAfterDays).toBe(60)
  })

  it('does not add an exclusion twice, and says so', () => {
    const result = interpretInstructions('Never touch personal devices. Leave personal devices alone.')
    expect(result.policy.exclude).toHaveLength(1)
    expect(result.applied[1]!.effect).toContain('already has this exclusion')
  })

  it('keeps periods inside values and quoted text', () => {
    expect(splitSentences('Exclude devices of a.b@contoso.com. Exclude devices named "X. Y; Z"')).toEqual([
      'Exclude devices of a.b@contoso.com',
      'Exclude devices named "X. Y; Z"',
    ])
  })
})

describe('interpretInstructions: on top of a base policy', () => {
  const base = Policy.parse({
    staleAfterDays: 120,
    rules: { 'stale-everywhere': { staleAfterDays: 200 } },
    disabledRules: ['entra-link-broken'],
    exclude: [{ field: 'name', pattern: 'SRV-*', label: 'servers' }],
    entraDeleteGraceDays: 60,
  })

  it('keeps what the base says and adds to it', () => {
    const baseCopy = structuredClone(base)
    const result = interpretInstructions(
      "Exclude devices whose name starts with LAB-. Don't report duplicates. Use a 90-day threshold. Set the grace period to 45 days",
      base,
    )
    expect(base).toEqual(baseCopy)
    expect(result.policy.exclude).toEqual([
      { field: 'name', pattern: 'SRV-*', label: 'servers' },
      { field: 'name', pattern: 'LAB-*', label: 'Exclude devices whose name starts with LAB-' },
    ])
    expect(result.policy.disabledRules).toEqual(['entra-link-broken', ...DUPLICATE_RULES])
    expect(result.policy.rules).toEqual({ 'stale-everywhere': { staleAfterDays: 200 } })
    expect(result.policy.staleAfterDays).toBe(90)
    expect(result.policy.entraDeleteGraceDays).toBe(45)
    expect(result.applied[2]!.effect).toContain('(was 120)')
    expect(result.applied[2]!.effect).toContain('stale-everywhere (200 days)')
    expect(result.applied[3]!.effect).toContain('(was 60)')
  })

  it('says when a rule is already off', () => {
    const result = interpretInstructions('Turn off entra-link-broken', base)
    expect(result.applied[0]!.effect).toContain('already off')
    expect(result.policy.disabledRules).toEqual(['entra-link-broken'])
  })
})

describe('interpretInstructions: determinism', () => {
  it('gives the same interpretation for the same text', () => {
    const text = ROWS.map((r) => r.say).join('\n')
    const a = interpretInstructions(text)
    const b = interpretInstructions(text)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    expect(a.applied.length + a.refused.length).toBe(ROWS.length)
  })
})

describe('requireAllInterpreted', () => {
  it('returns the interpretation when everything was applied', () => {
    const i = interpretInstructions('Never touch personal devices')
    expect(requireAllInterpreted(i)).toBe(i)
  })

  it('throws an InstructionsError quoting each refused sentence', () => {
    const i = interpretInstructions('Leave corporate devices alone. Use a 14-day threshold. Make it snappy')
    let error: unknown
    try {
      requireAllInterpreted(i)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InstructionsError)
    expect(error).toBeInstanceOf(OffboardError)
    const message = (error as InstructionsError).message
    expect(message).toContain('2 instructions could not be applied')
    expect(message).toContain('"Use a 14-day threshold"')
    expect(message).toContain('"Make it snappy"')
    expect(message).not.toContain('corporate')
  })
})

describe('rule names', () => {
  it('name only registered rules and every category', () => {
    const ids = new Set(RULES.map((r) => r.id))
    for (const id of Object.keys(RULE_NAMES)) expect(ids).toContain(id)
    for (const names of Object.values(CATEGORY_NAMES)) {
      for (const name of names) expect(resolveRules(name)?.length).toBeGreaterThan(0)
    }
  })

  it('match whole phrases only', () => {
    expect(resolveRules('the duplicate checks')).toEqual(DUPLICATE_RULES)
    expect(resolveRules('personal devices')).toBeNull()
    expect(resolveRules('defender')).toBeNull()
  })
})

describe('end to end with analyze()', () => {
  /** The healthy device, unseen by every source for 200 days: offboard would propose to offboard it. */
  function staleDevice() {
    const d = healthyRecords()
    d.intune.lastSyncDateTime = daysAgo(200)
    d.entra.approximateLastSignInDateTime = daysAgo(200)
    d.autopilot.lastContactedDateTime = daysAgo(200)
    d.defender.lastSeen = daysAgo(200)
    d.defender.machineTags = ['kiosk']
    return d
  }

  it('suggests offboarding the stale device without instructions', () => {
    const report = analyze(tenantFromDevice(staleDevice()), { now: NOW })
    expect(report.suggestions).toHaveLength(1)
    expect(report.skipped).toEqual([])
  })

  it.each([
    'Exclude devices whose name starts with LT-',
    'Skip anything tagged Kiosk in Defender',
    'Exclude serial numbers starting with PF3',
    'Exclude devices of jane.doe@contoso.example',
  ])('skips it as excludedByPolicy, quoting "%s"', (sentence) => {
    const { policy } = requireAllInterpreted(interpretInstructions(sentence))
    const report = analyze(tenantFromDevice(staleDevice()), { now: NOW, policy })
    expect(report.suggestions).toEqual([])
    expect(report.skipped).toHaveLength(1)
    expect(report.skipped[0]!.reason).toBe('excludedByPolicy')
    expect(report.skipped[0]!.note).toContain(`"${sentence}"`)
    expect(report.skipped[0]!.wouldBe).toContain('stale')
  })

  it.each([
    ['Ignore devices enrolled in the last 14 days', 10, true],
    ['Ignore devices enrolled in the last 14 days', 20, false],
    ['Leave devices registered after 2026-10-01 alone', 10, true],
  ])('"%s": a device registered %i days before the as-of time is skipped: %s', (sentence, days, skipped) => {
    const d = staleDevice()
    d.entra.registrationDateTime = daysAgo(days)
    const { policy } = requireAllInterpreted(interpretInstructions(sentence))
    const report = analyze(tenantFromDevice(d), { now: NOW, policy })
    expect(report.skipped.map((s) => s.reason)).toEqual(skipped ? ['excludedByPolicy'] : [])
    expect(report.suggestions).toHaveLength(skipped ? 0 : 1)
    if (skipped) expect(report.skipped[0]!.note).toContain(`"${sentence}"`)
  })

  it('changes nothing for refused sentences', () => {
    const { policy } = interpretInstructions('Delete everything older than a year. Use a 14-day threshold')
    const report = analyze(tenantFromDevice(staleDevice()), { now: NOW, policy })
    expect(report.suggestions).toHaveLength(1)
    expect(report.skipped).toEqual([])
  })
})
