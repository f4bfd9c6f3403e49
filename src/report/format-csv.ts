/** @module The spreadsheet rendering of a run report (`--format csv`): RFC 4180, one row per device outcome, injection-safe. */
import type { Action } from '../domain/action.js'
import type { Report, ReportDevice } from '../domain/report.js'
import { sanitizeCell } from './sanitize.js'

export const CSV_COLUMNS = [
  'status',
  'suggestionId',
  'category',
  'severity',
  'displayName',
  'platform',
  'ownership',
  'serialNumber',
  'entraObjectId',
  'entraDeviceId',
  'intuneDeviceId',
  'autopilotId',
  'defenderMachineId',
  'lastActivity',
  'plan',
  'rationale',
] as const
export type CsvColumn = (typeof CSV_COLUMNS)[number]

type Row = Record<CsvColumn, string | null>

const CRLF = '\r\n'
/** RFC 4180 §2.6: a field holding one of these must be quoted. */
const NEEDS_QUOTES = /[",\r\n]/

/**
 * Renders every suggestion, then every skipped device, then every undetermined device as CSV rows
 * (RFC 4180: comma separated, CRLF line ends, a header row, quotes doubled inside quoted fields; the
 * result ends with CRLF). Nothing is capped: this is the export for "all of it".
 *
 * Each cell is made safe before quoting:
 * - control characters and bidi overrides become visible escapes (`\x0a`, `\x1b`, `\u202e`). Newlines are
 *   escaped rather than kept in quoted fields, by choice: every record stays on one physical line, so
 *   `grep`, `wc -l` and line diffs of two exports work, and no importer that splits on newlines first can
 *   be tricked into starting a forged row;
 * - a cell starting with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'` so a device named
 *   `=HYPERLINK(...)` is shown as text, never run as a formula (OWASP "CSV Injection").
 * Quoting on `"`, `,`, CR and LF still applies to whatever remains.
 *
 * Column meaning by status: `category` holds the skip reason for skipped rows and is empty for undetermined
 * ones; `rationale` holds the rationale, the skip note (with the categories it would have had), or the
 * rules' reasons.
 */
export function formatCsv(report: Report): string {
  const rows: Row[] = []
  for (const s of report.suggestions) {
    rows.push({
      ...deviceColumns(s.device),
      status: 'suggested',
      suggestionId: s.id,
      category: s.category,
      severity: s.severity,
      plan: planText(s.actions),
      rationale: s.rationale,
    })
  }
  for (const s of report.skipped) {
    const wouldBe = s.wouldBe.length > 0 ? ` (would be: ${s.wouldBe.join(', ')})` : ''
    rows.push({
      ...deviceColumns(s.device),
      status: 'skipped',
      suggestionId: null,
      category: s.reason,
      severity: null,
      plan: null,
      rationale: s.note + wouldBe,
    })
  }
  for (const u of report.undetermined) {
    rows.push({
      ...deviceColumns(u.device),
      status: 'undetermined',
      suggestionId: null,
      category: null,
      severity: null,
      plan: null,
      rationale: u.reasons.map((r) => `${r.rule}: ${r.reason} (${r.detail})`).join('; '),
    })
  }
  const lines = [
    CSV_COLUMNS.join(','),
    ...rows.map((row) => CSV_COLUMNS.map((col) => csvField(row[col])).join(',')),
  ]
  return lines.join(CRLF) + CRLF
}

/** One field: made safe for spreadsheets, then quoted if RFC 4180 requires it. Null is an empty field. */
export function csvField(value: string | null): string {
  if (value === null) return ''
  const cell = sanitizeCell(value)
  return NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell
}

function deviceColumns(
  device: ReportDevice,
): Omit<Row, 'status' | 'suggestionId' | 'category' | 'severity' | 'plan' | 'rationale'> {
  return {
    displayName: device.displayName,
    platform: device.platform,
    ownership: device.ownership,
    serialNumber: device.serialNumber,
    entraObjectId: device.ids.entraObjectId,
    entraDeviceId: device.ids.entraDeviceId,
    intuneDeviceId: device.ids.intuneDeviceId,
    autopilotId: device.ids.autopilotId,
    defenderMachineId: device.ids.defenderMachineId,
    lastActivity: newestActivity(device),
  }
}

/**
 * The newest `lastActivity` among the device's records, as the source wrote it. Compared as instants, so a
 * `+02:00` offset sorts correctly; a value that does not parse is ignored rather than guessed at.
 */
export function newestActivity(device: ReportDevice): string | null {
  let newest: string | null = null
  let newestMs = Number.NEGATIVE_INFINITY
  for (const record of device.records) {
    if (record.lastActivity === null) continue
    const ms = Date.parse(record.lastActivity)
    if (Number.isNaN(ms) || ms <= newestMs) continue
    newest = record.lastActivity
    newestMs = ms
  }
  return newest
}

/** `1 intune:delete <id> (optIn); 2 autopilot:delete <id> (optIn)`, in step order with full ids. */
function planText(actions: readonly Action[]): string {
  return [...actions]
    .sort((a, b) => a.step - b.step)
    .map((a) => `${a.step} ${a.system}:${a.operation} ${a.target} (${a.automation})`)
    .join('; ')
}
