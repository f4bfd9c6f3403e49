/** @module The terminal rendering of a run report (`--format table`, the default on a TTY): grouped, wrapped, capped. */
import pc from 'picocolors'
import type { Action, Automation } from '../domain/action.js'
import { SOURCE_NAMES } from '../domain/device.js'
import type {
  Category,
  Report,
  ReportDevice,
  Severity,
  Skipped,
  Suggestion,
  Undetermined,
} from '../domain/report.js'
import { SkipReason } from '../domain/report.js'
import { displayWidth, truncate, wrap } from './layout.js'
import { sanitizeText } from './sanitize.js'

type Colors = ReturnType<typeof pc.createColors>
type Style = Colors['red']

export interface TableOptions {
  /** ANSI colours; false gives plain text with no escape code at all (pipes, NO_COLOR). */
  color: boolean
  /** Terminal columns, e.g. `process.stdout.columns`; undefined or not a positive number gives 80. */
  width?: number
}

export const DEFAULT_WIDTH = 80
/**
 * Narrower requests are raised to this. From here up every line fits the width (text wraps, ids and names
 * shrink to an ellipsis); below it the fixed words of a plan line alone would not fit.
 */
export const MIN_WIDTH = 40
/** Rows listed per group before "… and N more": the terminal is for reading, json and csv hold everything. */
export const LIST_CAP = 200

export const CATEGORY_ORDER: readonly Category[] = [
  'removedFromIntune',
  'stale',
  'duplicate',
  'defenderOrphan',
  'autopilotLeftover',
  'review',
]

export const CATEGORY_TITLES: Readonly<Record<Category, string>> = {
  removedFromIntune: 'Removed from Intune, still in other portals',
  stale: 'Stale in every source',
  duplicate: 'Superseded duplicates',
  defenderOrphan: 'Defender machines with no live device',
  autopilotLeftover: 'Autopilot registrations of retired devices',
  review: 'Need a review (no destructive action)',
}

/** Width of the severity column: the longest label, `MEDIUM`. */
const SEVERITY_WIDTH = 6
/** Shortest a device name or an id is cut to before the rest of a line gives way. */
const MIN_NAME = 12
const MIN_ID = 4
/** A hanging indent narrower than this wraps one word a line; the text moves under its label instead. */
const MIN_HANG = 16
const BLOCK_INDENT = '    '

/** One run of text on a line. `shrink` marks it as the part to cut first, and how far. */
interface Seg {
  text: string
  style?: Style | undefined
  shrink?: number
}

/** State shared by the section renderers. */
interface Ctx {
  c: Colors
  width: number
}

/**
 * Renders a report for a terminal of `opts.width` columns (default 80, at least {@link MIN_WIDTH}).
 * Every tenant string passes through {@link sanitizeText} before it is measured or printed.
 * The result ends with a newline: write it as is.
 *
 * @example process.stdout.write(formatTable(report, { color: process.stdout.isTTY, width: process.stdout.columns }))
 */
export function formatTable(report: Report, opts: TableOptions): string {
  const ctx: Ctx = { c: pc.createColors(opts.color), width: resolveWidth(opts.width) }
  const sections = [
    headerLines(report, ctx),
    summaryLines(report, ctx),
    suggestionLines(report, ctx),
    skippedLines(report, ctx),
    undeterminedLines(report, ctx),
    totalsLines(report, ctx),
  ]
  return sections
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join('\n'))
    .join('\n\n')
    .concat('\n')
}

function resolveWidth(width: number | undefined): number {
  if (width === undefined || !Number.isFinite(width) || width <= 0) return DEFAULT_WIDTH
  return Math.max(MIN_WIDTH, Math.floor(width))
}

// ---- line building: sanitise, measure, cut, then colour (colour codes must never be measured) ----

function seg(text: string, style?: Style, shrink?: number): Seg {
  return shrink === undefined
    ? { text: sanitizeText(text), style }
    : { text: sanitizeText(text), style, shrink }
}

function segsWidth(segs: readonly Seg[]): number {
  return segs.reduce((sum, s) => sum + displayWidth(s.text), 0)
}

/** Cuts the shrinkable runs, then the end of the line, until it fits `width`; returns the coloured line. */
function fitLine(segs: readonly Seg[], width: number): string {
  const out = segs.map((s) => ({ ...s }))
  let over = segsWidth(out) - width
  for (const s of out) {
    if (over <= 0) break
    if (s.shrink === undefined) continue
    const w = displayWidth(s.text)
    const cut = Math.min(over, w - s.shrink)
    if (cut <= 0) continue
    s.text = truncate(s.text, w - cut)
    over -= w - displayWidth(s.text)
  }
  if (over > 0) {
    let budget = width
    for (const s of out) {
      s.text = truncate(s.text, budget)
      budget -= displayWidth(s.text)
    }
  }
  return out.map((s) => (s.style && s.text !== '' ? s.style(s.text) : s.text)).join('')
}

/**
 * `prefix` then `text` wrapped with a hanging indent under its first word; when the prefix leaves too little
 * room, the text goes on the following lines indented by `fallbackIndent` instead.
 */
function hanging(
  ctx: Ctx,
  prefix: readonly Seg[],
  text: string,
  style?: Style,
  fallbackIndent = 4,
): string[] {
  const clean = sanitizeText(text)
  const p = segsWidth(prefix)
  const avail = ctx.width - p
  if (avail >= MIN_HANG) {
    const lines = wrap(clean, avail)
    if (lines.length === 0) return [fitLine(trimEnd(prefix), ctx.width)]
    const pad = ' '.repeat(p)
    return lines.map((line, i) =>
      i === 0 ? fitLine([...prefix, seg(line, style)], ctx.width) : pad + paint(line, style),
    )
  }
  const indent = ' '.repeat(fallbackIndent)
  return [
    fitLine(trimEnd(prefix), ctx.width),
    ...wrap(clean, ctx.width - fallbackIndent).map((l) => indent + paint(l, style)),
  ]
}

/** The prefix without trailing spaces, for when it ends a line. */
function trimEnd(segs: readonly Seg[]): Seg[] {
  const out = segs.map((s) => ({ ...s }))
  while (out.length > 0 && out[out.length - 1]!.text.trimEnd() === '') out.pop()
  const last = out[out.length - 1]
  if (last) last.text = last.text.trimEnd()
  return out
}

/** Wrapped paragraph with every line indented by `indent`. */
function paragraph(ctx: Ctx, indent: string, text: string, style?: Style): string[] {
  return wrap(sanitizeText(text), ctx.width - indent.length).map((line) => indent + paint(line, style))
}

function paint(text: string, style?: Style): string {
  return style && text !== '' ? style(text) : text
}

/** A bold title with its count; wrapped rather than cut, so the count stays visible on a narrow terminal. */
function heading(ctx: Ctx, title: string, count?: number): string[] {
  const label = count === undefined ? title : `${title} (${count.toLocaleString('en-US')})`
  return wrap(sanitizeText(label), ctx.width).map((line) => ctx.c.bold(line))
}

function moreLine(ctx: Ctx, total: number): string[] {
  if (total <= LIST_CAP) return []
  const more = (total - LIST_CAP).toLocaleString('en-US')
  return hanging(ctx, [seg('  ')], `… and ${more} more (use --format json or csv for all)`, ctx.c.dim)
}

// ---- sections ----

function headerLines(report: Report, ctx: Ctx): string[] {
  const { c } = ctx
  const lines = [
    fitLine([seg('Offboarding report', c.bold)], ctx.width),
    fitLine([seg('  As of    '), seg(report.asOf, undefined, MIN_ID)], ctx.width),
    fitLine([seg('  Tenant   '), seg(report.tenantId ?? '(unknown)', undefined, MIN_ID)], ctx.width),
    fitLine([seg('  Sources')], ctx.width),
  ]
  const statusStyle = { ok: c.green, missing: c.yellow, error: c.red } as const
  for (const name of SOURCE_NAMES) {
    const source = report.sources[name]
    const prefix = [
      seg(`    ${name.padEnd(10)}`),
      seg(source.status.padEnd(8), statusStyle[source.status]),
      seg(`${source.records.toLocaleString('en-US').padStart(9)} records`),
    ]
    if (source.warning === undefined || source.warning.trim() === '') {
      lines.push(fitLine(prefix, ctx.width))
    } else {
      lines.push(...hanging(ctx, [...prefix, seg('  ')], source.warning, c.yellow, 6))
    }
  }
  return lines
}

function summaryLines(report: Report, ctx: Ctx): string[] {
  const { c } = ctx
  const { summary } = report
  const lines = [...heading(ctx, 'Summary'), ...paragraph(ctx, '  ', summary.text)]
  if (summary.factors.length > 0) {
    lines.push('  Factors:')
    for (const factor of summary.factors) lines.push(...hanging(ctx, [seg('    • ')], factor))
  }
  for (const warning of summary.warnings) {
    lines.push(
      ...hanging(ctx, [seg('  '), seg('! ', (s) => c.bold(c.red(s)))], warning, (s) => c.bold(c.yellow(s))),
    )
  }
  return lines
}

function suggestionLines(report: Report, ctx: Ctx): string[] {
  if (report.suggestions.length === 0)
    return [...heading(ctx, 'Suggestions'), '  No device needs offboarding.']
  const lines: string[] = []
  for (const category of CATEGORY_ORDER) {
    const group = report.suggestions.filter((s) => s.category === category)
    if (group.length === 0) continue
    if (lines.length > 0) lines.push('')
    lines.push(...heading(ctx, CATEGORY_TITLES[category], group.length))
    for (const suggestion of group.slice(0, LIST_CAP)) lines.push('', ...suggestionBlock(suggestion, ctx))
    const more = moreLine(ctx, group.length)
    if (more.length > 0) lines.push('', ...more)
  }
  return lines
}

function suggestionBlock(s: Suggestion, ctx: Ctx): string[] {
  const { c } = ctx
  const severityStyle: Record<Severity, Style> = {
    high: (t) => c.bold(c.red(t)),
    medium: c.yellow,
    low: c.dim,
  }
  const lines = [
    fitLine(
      [
        seg('  '),
        seg(s.severity.toUpperCase().padEnd(SEVERITY_WIDTH), severityStyle[s.severity]),
        seg('  '),
        ...deviceSegs(s.device, ctx),
      ],
      ctx.width,
    ),
    ...paragraph(ctx, BLOCK_INDENT, s.rationale),
  ]
  const steps = [...s.actions].sort((a, b) => a.step - b.step)
  if (steps.length === 0) lines.push(BLOCK_INDENT + c.dim('No action planned: review only.'))
  for (const action of steps) lines.push(...actionLines(action, ctx))
  return lines
}

function actionLines(action: Action, ctx: Ctx): string[] {
  const { c } = ctx
  const automationStyle: Record<Automation, Style> = { agent: c.green, optIn: c.cyan, manual: c.dim }
  const number = `${action.step}. `
  const lines = [
    fitLine(
      [
        seg(BLOCK_INDENT + number),
        seg(`${action.system} ${action.operation}`),
        seg('  '),
        seg(action.target, undefined, MIN_ID),
        seg('  '),
        seg(`[${action.automation}]`, automationStyle[action.automation]),
      ],
      ctx.width,
    ),
  ]
  // Under the step, aligned with the system name: what the admin must know or do by hand.
  const under = ' '.repeat(BLOCK_INDENT.length + number.length)
  for (const warning of action.warnings)
    lines.push(...hanging(ctx, [seg(under), seg('! ', c.yellow)], warning, c.yellow))
  if (action.automation === 'manual' && action.instructions.trim() !== '') {
    lines.push(...paragraph(ctx, under, action.instructions, c.dim))
  }
  return lines
}

/** Name (cut first when the line is long), then platform and ownership. */
function deviceSegs(device: ReportDevice, ctx: Ctx): Seg[] {
  const named = device.displayName ?? device.serialNumber
  return [
    named === null ? seg('(unnamed device)', ctx.c.dim, MIN_NAME) : seg(named, ctx.c.bold, MIN_NAME),
    seg(`  ${device.platform} · ${device.ownership}`, ctx.c.dim),
  ]
}

function skippedLines(report: Report, ctx: Ctx): string[] {
  const { c } = ctx
  const counts = report.summary.counts.bySkipReason
  if (report.summary.counts.skipped === 0 && report.skipped.length === 0) return []
  const lines = [...heading(ctx, 'Skipped', report.summary.counts.skipped)]
  // Known reasons in contract order, then any others the report carries, so nothing counted is hidden.
  const known: readonly string[] = SkipReason.options
  const reasons = [
    ...known.filter((r) => r in counts),
    ...Object.keys(counts).filter((r) => !known.includes(r)),
  ]
  for (const reason of reasons) {
    lines.push(
      fitLine(
        [seg(`  ${reason.padEnd(18)} `, undefined, MIN_NAME), seg(String(counts[reason] ?? 0))],
        ctx.width,
      ),
    )
  }
  const actionable = report.skipped.filter((s) => s.wouldBe.length > 0)
  if (actionable.length > 0) {
    lines.push('', fitLine([seg('  Would otherwise have been acted on:', c.bold)], ctx.width))
    for (const skipped of actionable.slice(0, LIST_CAP)) lines.push(...skippedBlock(skipped, ctx))
    lines.push(...moreLine(ctx, actionable.length))
  }
  return lines
}

function skippedBlock(s: Skipped, ctx: Ctx): string[] {
  return [
    fitLine([seg('  '), ...deviceSegs(s.device, ctx)], ctx.width),
    ...paragraph(ctx, BLOCK_INDENT, `${s.reason} · would be: ${s.wouldBe.join(', ')}`, ctx.c.yellow),
    ...paragraph(ctx, BLOCK_INDENT, s.note),
  ]
}

function undeterminedLines(report: Report, ctx: Ctx): string[] {
  const count = report.summary.counts.undetermined
  if (count === 0 && report.undetermined.length === 0) return []
  const lines = [
    ...heading(ctx, 'Undetermined', count),
    ...paragraph(ctx, '  ', 'A rule could not judge these devices: unknown, not stale.', ctx.c.dim),
  ]
  for (const u of report.undetermined.slice(0, LIST_CAP)) lines.push(...undeterminedBlock(u, ctx))
  lines.push(...moreLine(ctx, report.undetermined.length))
  return lines
}

function undeterminedBlock(u: Undetermined, ctx: Ctx): string[] {
  const lines = [fitLine([seg('  '), ...deviceSegs(u.device, ctx)], ctx.width)]
  for (const r of u.reasons) {
    lines.push(
      ...hanging(
        ctx,
        [seg(BLOCK_INDENT), seg(`${r.rule} · ${r.reason}: `, ctx.c.yellow, MIN_NAME)],
        r.detail,
      ),
    )
  }
  return lines
}

function totalsLines(report: Report, ctx: Ctx): string[] {
  const n = report.summary.counts
  const text =
    `Totals: ${plural(n.devices, 'device')}, ${plural(n.suggestions, 'suggestion')} ` +
    `(${plural(n.actions, 'action')}), ${n.skipped.toLocaleString('en-US')} skipped, ` +
    `${n.undetermined.toLocaleString('en-US')} undetermined.`
  return wrap(text, ctx.width).map((line) => ctx.c.bold(line))
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`
}
