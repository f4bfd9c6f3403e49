/** @module Plain renderings for the agent's commands: aligned tables, key/value blocks, CSV and JSON. Tenant text is escaped. */
import { csvField } from '../report/format-csv.js'
import { sanitizeText } from '../report/sanitize.js'

export type Cell = string | number | boolean | Date | null | undefined
/** A column wider than this is cut with `…`: a rationale must not push every other column off the screen. */
export const MAX_CELL_WIDTH = 60

export function cellText(value: Cell): string {
  if (value === null || value === undefined) return '-'
  if (value instanceof Date) return formatInstant(value)
  return sanitizeText(String(value))
}

/** `2026-11-01 09:30Z`: minutes are enough to read, and the zone is always UTC. */
export function formatInstant(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

/** An aligned table with a header; `empty` is printed instead when there are no rows. */
export function renderTable(columns: readonly string[], rows: readonly Cell[][], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`
  const text = rows.map((r) => r.map((c) => clip(cellText(c), MAX_CELL_WIDTH)))
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => r[i]?.length ?? 0)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return `${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n')}\n`
}

/** `label: value` lines, labels aligned; multi-line values are indented under their label. */
export function renderFields(fields: readonly [string, Cell][]): string {
  const width = Math.max(...fields.map(([k]) => k.length))
  return `${fields
    .map(([k, v]) => {
      const lines = (v === null || v === undefined || v instanceof Date ? cellText(v) : String(v))
        .split('\n')
        .map((l) => sanitizeText(l))
      return `${`${k}:`.padEnd(width + 2)}${lines.join(`\n${' '.repeat(width + 2)}`)}`
    })
    .join('\n')}\n`
}

/** RFC 4180 with CRLF line ends and spreadsheet-safe cells, like the report's CSV export. */
export function renderCsv(columns: readonly string[], rows: readonly Cell[][]): string {
  const field = (c: Cell) =>
    csvField(c === null || c === undefined ? null : c instanceof Date ? c.toISOString() : String(c))
  return `${[columns.join(','), ...rows.map((r) => r.map(field).join(','))].join('\r\n')}\r\n`
}

export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
