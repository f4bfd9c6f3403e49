/** @module Tests of the terminal report: grouping, plan order, colour, width, caps and hostile tenant text. */
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { Report } from '../domain/report.js'
import { CATEGORY_TITLES, formatTable, LIST_CAP } from './format-table.js'
import { displayWidth } from './layout.js'

// ---- fixtures: plain literals, validated by the report contract ----

type Input = z.input<typeof Report>
type SuggestionInput = Input['suggestions'][number]
type DeviceInput = SuggestionInput['device']
type ActionInput = SuggestionInput['actions'][number]

const INTUNE_ID = 'a19d8bb8-5f0e-4c3a-9d7e-1b2c3d4e5f60'
const AUTOPILOT_ID = 'cc37e1a2-7b44-4f8e-8a11-0f9e8d7c6b5a'
const ENTRA_ID = '5e1f0c2d-3b4a-4968-8776-5a4b3c2d1e0f'
const DEFENDER_ID = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432'

function device(over: Partial<DeviceInput> = {}): DeviceInput {
  return {
    displayName: 'LAPTOP-01',
    platform: 'windows',
    serialNumber: 'SN-0001',
    ownership: 'company',
    ids: {
      entraObjectId: ENTRA_ID,
      entraDeviceId: null,
      intuneDeviceId: INTUNE_ID,
      autopilotId: AUTOPILOT_ID,
      defenderMachineId: null,
    },
    records: [{ source: 'intune', id: INTUNE_ID, name: 'LAPTOP-01', lastActivity: '2025-06-01T10:00:00Z' }],
    ...over,
  }
}

function action(step: number, over: Partial<ActionInput> = {}): ActionInput {
  return {
    step,
    system: 'intune',
    operation: 'delete',
    target: INTUNE_ID,
    targetName: 'LAPTOP-01',
    automation: 'optIn',
    instructions: 'Delete the managed device in Intune.',
    prerequisites: [],
    warnings: [],
    request: { api: 'graph', method: 'DELETE', path: `/deviceManagement/managedDevices/${INTUNE_ID}` },
    ...over,
  }
}

function suggestion(id: string, over: Partial<SuggestionInput> = {}): SuggestionInput {
  return {
    id,
    category: 'stale',
    severity: 'medium',
    rationale: 'No source has seen this device for 200 days (threshold 90).',
    device: device(),
    evidence: [],
    actions: [action(1)],
    findings: [],
    ...over,
  }
}

function report(over: Partial<Input> = {}): Report {
  const suggestions = over.suggestions ?? []
  return Report.parse({
    schemaVersion: 1,
    generator: { name: 'offboard', version: '0.1.0' },
    asOf: '2026-03-01T00:00:00Z',
    tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    sources: {
      intune: { status: 'ok', records: 1234 },
      entra: { status: 'ok', records: 1300 },
      autopilot: {
        status: 'missing',
        records: 0,
        warning: 'No Autopilot export: absence-based findings are not trusted.',
      },
      defender: { status: 'error', records: 0, warning: '403 Forbidden: grant Machine.Read.All' },
    },
    policy: { staleAfterDays: 90, excludeRules: 0 },
    summary: {
      text: 'Found 2 devices to offboard.',
      factors: ['Autopilot export missing', 'Defender unreachable'],
      warnings: ['Defender could not be read: Defender orphans are not reported.'],
      counts: {
        devices: 10,
        suggestions: suggestions.length,
        byCategory: {},
        skipped: 0,
        bySkipReason: {},
        undetermined: 0,
        actions: suggestions.reduce((n, s) => n + s.actions.length, 0),
      },
    },
    suggestions,
    skipped: [],
    undetermined: [],
    ...over,
  })
}

// Built from a string so the linter's rule against control characters in regex literals does not fire.
const ESC = String.fromCharCode(27)
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g')
const stripAnsi = (text: string) => text.replace(SGR, '')
const lines = (text: string) => text.replace(/\n$/, '').split('\n')

/** Independent of the sanitiser under test: C0, DEL, C1 and the bidi embeddings, overrides and isolates. */
function controlChars(text: string): string[] {
  return [...text].filter((ch) => {
    const cp = ch.codePointAt(0)!
    return (
      cp < 0x20 ||
      (cp >= 0x7f && cp <= 0x9f) ||
      (cp >= 0x202a && cp <= 0x202e) ||
      (cp >= 0x2066 && cp <= 0x2069)
    )
  })
}

/** A report with something in every section, and long values everywhere a line could overflow. */
function busyReport(): Report {
  const longName = 'CONFERENCE-ROOM-BIG-SCREEN-'.repeat(4)
  return report({
    tenantId: 'a-tenant-id-that-is-much-longer-than-any-real-guid-would-ever-be-0000000000000',
    suggestions: [
      suggestion('s1', {
        category: 'removedFromIntune',
        severity: 'high',
        device: device({ displayName: longName }),
        rationale:
          `${longName} left Intune 40 days ago but is still enabled in Entra and registered in Autopilot. `.repeat(
            3,
          ),
        actions: [
          action(1, {
            system: 'activeDirectory',
            operation: 'unassignUser',
            automation: 'manual',
            target: `${DEFENDER_ID}${DEFENDER_ID}`,
            warnings: ['This delete wipes Android corporate devices: confirm the device is retired first.'],
            instructions: 'Open Active Directory Users and Computers and remove the computer object by hand.',
          }),
          action(2, { system: 'defender', operation: 'offboard', target: DEFENDER_ID }),
        ],
      }),
      suggestion('s2', { category: 'review', severity: 'low', actions: [] }),
    ],
    skipped: [
      {
        device: device({ displayName: longName }),
        reason: 'hybridJoined',
        note: 'Hybrid joined: the on-premises Active Directory object owns this device. '.repeat(2),
        wouldBe: ['stale', 'duplicate'],
      },
    ],
    undetermined: [
      {
        device: device({ displayName: null, serialNumber: null }),
        reasons: [
          {
            rule: 'intune-checkin-stale-with-a-long-rule-id',
            reason: 'field-missing',
            detail: 'x'.repeat(120),
          },
        ],
      },
    ],
  })
}

describe('formatTable', () => {
  it('prints the header, sources with their warnings, the summary, factors and warnings', () => {
    const out = formatTable(report(), { color: false })
    expect(out).toContain('As of    2026-03-01T00:00:00Z')
    expect(out).toContain('Tenant   72f988bf-86f1-41af-91ab-2d7cd011db47')
    expect(out).toMatch(/^ {4}intune {4}ok {6}\s+1,234 records$/m)
    expect(out).toMatch(/^ {4}autopilot +missing +0 records +No Autopilot export: absence-based/m)
    expect(out).toMatch(/^ {4}defender +error +0 records +403 Forbidden: grant Machine\.Read\.All$/m)
    expect(out).toContain(
      '  Found 2 devices to offboard.\n  Factors:\n    • Autopilot export missing\n    • Defender unreachable\n',
    )
    expect(out).toContain('  ! Defender could not be read: Defender orphans are not reported.')
    expect(out).toContain('No device needs offboarding.')
  })

  it('groups suggestions by category in the fixed order, with human titles and counts', () => {
    const out = formatTable(
      report({
        suggestions: [
          suggestion('r1', { category: 'review', actions: [] }),
          suggestion('s1', { category: 'stale', device: device({ displayName: 'STALE-1' }) }),
          suggestion('d1', { category: 'duplicate' }),
          suggestion('s2', { category: 'stale', device: device({ displayName: 'STALE-2' }) }),
          suggestion('x1', { category: 'removedFromIntune' }),
          suggestion('a1', { category: 'autopilotLeftover' }),
          suggestion('o1', { category: 'defenderOrphan' }),
        ],
      }),
      { color: false },
    )
    const headings = [
      'Removed from Intune, still in other portals (1)',
      'Stale in every source (2)',
      'Superseded duplicates (1)',
      'Defender machines with no live device (1)',
      'Autopilot registrations of retired devices (1)',
      'Need a review (no destructive action) (1)',
    ]
    const positions = headings.map((h) => lines(out).indexOf(h))
    expect(positions.every((p) => p >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    // Within a group, the report's own order is kept.
    expect(out.indexOf('STALE-1')).toBeLessThan(out.indexOf('STALE-2'))
    expect(out.indexOf('STALE-2')).toBeLessThan(out.indexOf(CATEGORY_TITLES.duplicate))
    expect(out).toContain('No action planned: review only.')
  })

  it('omits the heading of an empty group', () => {
    const out = formatTable(report({ suggestions: [suggestion('s1')] }), { color: false })
    expect(out).toContain('Stale in every source (1)')
    expect(out).not.toContain(CATEGORY_TITLES.duplicate)
  })

  it('prints a suggestion as severity, name, platform and ownership, rationale, then the plan in step order', () => {
    const out = formatTable(
      report({
        suggestions: [
          suggestion('s1', {
            severity: 'high',
            actions: [
              action(3, { system: 'entra', operation: 'disable', target: ENTRA_ID, automation: 'agent' }),
              action(1),
              action(2, { system: 'autopilot', target: AUTOPILOT_ID }),
            ],
          }),
        ],
      }),
      { color: false },
    )
    expect(out).toContain(
      [
        '  HIGH    LAPTOP-01  windows · company',
        '    No source has seen this device for 200 days (threshold 90).',
        `    1. intune delete  ${INTUNE_ID}  [optIn]`,
        `    2. autopilot delete  ${AUTOPILOT_ID}  [optIn]`,
        `    3. entra disable  ${ENTRA_ID}  [agent]`,
      ].join('\n'),
    )
  })

  it('prints action warnings under the step, and instructions only for manual steps', () => {
    const out = formatTable(
      report({
        suggestions: [
          suggestion('s1', {
            actions: [
              action(1, { warnings: ['On Android corporate devices a delete is a wipe.'] }),
              action(2, {
                automation: 'manual',
                system: 'defender',
                operation: 'exclude',
                instructions: 'Tag it in the portal.',
              }),
            ],
          }),
        ],
      }),
      { color: false },
    )
    expect(out).toContain(
      `[optIn]\n       ! On Android corporate devices a delete is a wipe.\n    2. defender exclude`,
    )
    expect(out).toContain('[manual]\n       Tag it in the portal.')
    expect(out).not.toContain('Delete the managed device in Intune.')
  })

  it('has no ANSI escape code without colour, and coloured severities and automation levels with it', () => {
    const r = busyReport()
    const plain = formatTable(r, { color: false })
    expect(plain).not.toContain(ESC)
    expect(plain).not.toContain('\u009b')

    const coloured = formatTable(r, { color: true })
    expect(coloured).toContain(`${ESC}[31m`) // high in red
    expect(coloured).toContain(`${ESC}[31mHIGH  ${ESC}[39m`)
    expect(coloured).toContain(`${ESC}[36m[optIn]${ESC}[39m`)
    expect(coloured).toContain(`${ESC}[2m[manual]${ESC}[22m`)
    expect(coloured).toContain(`${ESC}[33m`) // warnings in yellow
    expect(stripAnsi(coloured)).toBe(plain)
  })

  it.each([40, 50, 60, 80, 100, 132])('keeps every line within %i columns', (width) => {
    for (const color of [false, true]) {
      const out = formatTable(busyReport(), { color, width })
      for (const line of lines(stripAnsi(out))) {
        expect(displayWidth(line), line).toBeLessThanOrEqual(width)
        expect(line, 'no trailing spaces').not.toMatch(/\s$/)
      }
    }
  })

  it('defaults to 80 columns and raises narrower requests to 40', () => {
    for (const width of [undefined, 0, Number.NaN, -5]) {
      const out = formatTable(busyReport(), { color: false, width })
      const widest = Math.max(...lines(out).map(displayWidth))
      expect(widest).toBeLessThanOrEqual(80)
      expect(widest).toBeGreaterThan(70)
    }
    const narrow = formatTable(busyReport(), { color: false, width: 10 })
    expect(Math.max(...lines(narrow).map(displayWidth))).toBe(40)
  })

  it('shows full ids at 80 columns and cuts them with an ellipsis on a narrow terminal', () => {
    const r = report({
      suggestions: [suggestion('s1', { actions: [action(1, { target: DEFENDER_ID, system: 'defender' })] })],
    })
    expect(formatTable(r, { color: false })).toContain(`1. defender delete  ${DEFENDER_ID}  [optIn]`)
    const narrow = formatTable(r, { color: false, width: 50 })
    expect(narrow).toMatch(/^ {4}1\. defender delete {2}9f8e7d6c5b4a3928… {2}\[optIn\]$/m)
  })

  it(`lists the first ${LIST_CAP} suggestions of a large group and says how many more there are`, () => {
    const many = Array.from({ length: LIST_CAP + 5 }, (_, i) =>
      suggestion(`s${i}`, { device: device({ displayName: `STALE-${String(i).padStart(3, '0')}` }) }),
    )
    const out = formatTable(report({ suggestions: [...many, suggestion('d1', { category: 'duplicate' })] }), {
      color: false,
    })
    expect(out).toContain('Stale in every source (205)')
    expect(out).toContain(`STALE-${LIST_CAP - 1}`)
    expect(out).not.toContain(`STALE-${LIST_CAP}`)
    expect(out).toContain('  … and 5 more (use --format json or csv for all)')
    expect(out.match(/^ {2}MEDIUM/gm)).toHaveLength(LIST_CAP + 1)
    expect(out).toContain('Superseded duplicates (1)')
  })

  it('lists skip counts per reason, and only the skipped devices that would otherwise have been acted on', () => {
    const out = formatTable(
      report({
        summary: {
          text: 'x',
          factors: [],
          warnings: [],
          counts: {
            devices: 3,
            suggestions: 0,
            byCategory: {},
            skipped: 3,
            bySkipReason: { sharedDevice: 1, hybridJoined: 2 },
            undetermined: 0,
            actions: 0,
          },
        },
        skipped: [
          {
            device: device({ displayName: 'HYBRID-1' }),
            reason: 'hybridJoined',
            note: 'On-premises owns it.',
            wouldBe: ['stale'],
          },
          {
            device: device({ displayName: 'HYBRID-2' }),
            reason: 'hybridJoined',
            note: 'Healthy.',
            wouldBe: [],
          },
          {
            device: device({ displayName: 'SHARED-1' }),
            reason: 'sharedDevice',
            note: 'Shared.',
            wouldBe: [],
          },
        ],
      }),
      { color: false },
    )
    expect(out).toContain(
      [
        'Skipped (3)',
        '  hybridJoined       2',
        '  sharedDevice       1',
        '',
        '  Would otherwise have been acted on:',
        '  HYBRID-1  windows · company',
        '    hybridJoined · would be: stale',
        '    On-premises owns it.',
      ].join('\n'),
    )
    expect(out).not.toContain('HYBRID-2')
    expect(out).not.toContain('SHARED-1')
  })

  it('lists undetermined devices with rule, reason and detail, capped', () => {
    const many = Array.from({ length: LIST_CAP + 1 }, (_, i) => ({
      device: device({ displayName: `UNKNOWN-${i}` }),
      reasons: [
        {
          rule: 'intune-checkin-stale',
          reason: 'field-missing' as const,
          detail: 'lastSyncDateTime is empty',
        },
      ],
    }))
    const r = report({ undetermined: many })
    const out = formatTable(
      { ...r, summary: { ...r.summary, counts: { ...r.summary.counts, undetermined: many.length } } },
      {
        color: false,
      },
    )
    expect(out).toContain('Undetermined (201)')
    expect(out).toContain(
      '  UNKNOWN-0  windows · company\n    intune-checkin-stale · field-missing: lastSyncDateTime is empty',
    )
    expect(out).not.toContain(`UNKNOWN-${LIST_CAP}`)
    expect(out).toContain('… and 1 more (use --format json or csv for all)')
  })

  it('ends with one totals line', () => {
    const out = formatTable(busyReport(), { color: false })
    expect(out.endsWith('\n')).toBe(true)
    expect(lines(out).at(-1)).toBe(
      'Totals: 10 devices, 2 suggestions (2 actions), 0 skipped, 0 undetermined.',
    )
  })

  it('neutralises escape sequences and bidi overrides in every tenant string', () => {
    const evil = '\u001b[2J\u001b[H evil\r\u0007\u009b31m\u202eexe.cod'
    const r = report({
      tenantId: evil,
      sources: {
        intune: { status: 'ok', records: 1, warning: evil },
        entra: { status: 'ok', records: 1 },
        autopilot: { status: 'ok', records: 1 },
        defender: { status: 'ok', records: 1 },
      },
      summary: {
        text: evil,
        factors: [evil],
        warnings: [evil],
        counts: {
          devices: 1,
          suggestions: 1,
          byCategory: {},
          skipped: 1,
          bySkipReason: { [evil]: 1 },
          undetermined: 1,
          actions: 1,
        },
      },
      suggestions: [
        suggestion('s1', {
          rationale: evil,
          device: device({ displayName: evil }),
          actions: [action(1, { target: evil, automation: 'manual', instructions: evil, warnings: [evil] })],
        }),
      ],
      skipped: [
        { device: device({ displayName: evil }), reason: 'sharedDevice', note: evil, wouldBe: ['stale'] },
      ],
      undetermined: [
        {
          device: device({ displayName: evil }),
          reasons: [{ rule: evil, reason: 'field-missing', detail: evil }],
        },
      ],
    })
    for (const color of [false, true]) {
      const out = stripAnsi(formatTable(r, { color, width: 200 }))
      for (const line of lines(out)) expect(controlChars(line)).toEqual([])
      expect(out).toContain('\\x1b[2J\\x1b[H evil\\x0d\\x07\\x9b31m\\u202eexe.cod')
    }
    // With colour on, the only escape codes are the formatter's own SGR colour codes.
    expect(stripAnsi(formatTable(r, { color: true })).includes(ESC)).toBe(false)
  })
})
