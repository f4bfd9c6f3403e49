/** @module `offboard suggestions` and `offboard suggestion show ID`: the current suggestions of a tenant, from its latest completed run. */
import { type Command, Option } from 'commander'
import { formatOption, type OutputFormat, outputFormat, tenantOption, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, resolveTenant, storeOpener, withStore } from '../../agent/context.js'
import { formatInstant, renderCsv, renderFields, renderJson, renderTable } from '../../agent/format.js'
import { WorkStatus } from '../../agent/model.js'
import type { StoredSuggestion } from '../../agent/suggestions.js'
import { Platform } from '../../domain/device.js'
import { Category, Severity } from '../../domain/report.js'
import { sanitizeText as clean } from '../../report/sanitize.js'

interface ListOptions {
  tenant?: string
  category?: Category
  platform?: Platform
  severity?: Severity
  status?: WorkStatus
  format?: OutputFormat
}

/** The services load with the database layer, only when a command runs. */
const services = () => import('../../agent/suggestions.js')

export function registerSuggestions(program: Command, deps: CommandDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  const env = deps.env ?? process.env

  program
    .command('suggestions')
    .summary("list the tenant's current suggestions (from its latest completed run)")
    .description(
      'Lists the suggestions of the latest completed run with their status and assignee. Each completed run replaces ' +
        'them; add one to Tasks to keep tracking it across runs.',
    )
    .addOption(tenantOption())
    .addOption(new Option('--category <category>', 'only this category').choices(Category.options))
    .addOption(new Option('--platform <platform>', 'only this platform').choices(Platform.options))
    .addOption(new Option('--severity <severity>', 'only this severity').choices(Severity.options))
    .addOption(new Option('--status <status>', 'only this status').choices(WorkStatus.options))
    .addOption(formatOption(['table', 'json', 'csv']))
    .addHelpText(
      'after',
      `
Examples:
  offboard suggestions
  offboard suggestions --category stale --platform windows
  offboard suggestions --format csv > suggestions.csv`,
    )
    .action((opts: ListOptions) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        const list = await (await services()).listSuggestions(store, actorOf(deps), tenant, {
          ...(opts.category ? { category: opts.category } : {}),
          ...(opts.platform ? { platform: opts.platform } : {}),
          ...(opts.severity ? { severity: opts.severity } : {}),
          ...(opts.status ? { status: opts.status } : {}),
        })
        await write(renderSuggestions(list, outputFormat(opts.format)))
      }),
    )

  program
    .command('suggestion')
    .summary('one suggestion in full')
    .command('show')
    .summary('show a suggestion: rationale, evidence and the ordered plan')
    .argument('<id>', 'suggestion id (or an unambiguous prefix of at least 6 characters)')
    .addOption(tenantOption())
    .addOption(formatOption())
    .action((id: string, opts: { tenant?: string; format?: OutputFormat }) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        const s = await (await services()).getSuggestion(store, actorOf(deps), tenant, id)
        await write(outputFormat(opts.format) === 'json' ? renderJson(s) : renderSuggestion(s))
      }),
    )
}

const CSV_COLUMNS = [
  'id',
  'category',
  'severity',
  'platform',
  'displayName',
  'serialNumber',
  'status',
  'assignee',
  'taskId',
  'firstSeenAt',
  'entraObjectId',
  'entraDeviceId',
  'intuneDeviceId',
  'autopilotId',
  'defenderMachineId',
  'rationale',
] as const

export function renderSuggestions(list: readonly StoredSuggestion[], format: OutputFormat): string {
  if (format === 'json') return renderJson(list)
  if (format === 'csv') {
    return renderCsv(
      CSV_COLUMNS,
      list.map((s) => {
        const d = s.suggestion.device
        return [
          s.id,
          s.category,
          s.severity,
          s.platform,
          d.displayName,
          d.serialNumber,
          s.status,
          s.assignee,
          s.taskId,
          s.firstSeenAt,
          d.ids.entraObjectId,
          d.ids.entraDeviceId,
          d.ids.intuneDeviceId,
          d.ids.autopilotId,
          d.ids.defenderMachineId,
          s.suggestion.rationale,
        ]
      }),
    )
  }
  return renderTable(
    ['id', 'category', 'severity', 'platform', 'device', 'status', 'assignee', 'task', 'first seen'],
    list.map((s) => [
      s.id,
      s.category,
      s.severity,
      s.platform,
      s.displayName,
      s.status,
      s.assignee,
      s.taskId,
      s.firstSeenAt,
    ]),
    "No suggestions. Run 'offboard run' first, or widen the filters.",
  )
}

export function renderSuggestion(s: StoredSuggestion): string {
  const d = s.suggestion.device
  const ids = Object.entries(d.ids)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  const head = renderFields([
    ['suggestion', s.id],
    [
      'device',
      `${d.displayName ?? '(no name)'} (${d.platform}, ${d.ownership}, serial ${d.serialNumber ?? '-'})`,
    ],
    ['ids', ids || '-'],
    ['category', `${s.category}, severity ${s.severity}`],
    [
      'status',
      `${s.status}${s.assignee ? `, assigned to ${s.assignee}` : ''}${s.taskId ? `, task ${s.taskId}` : ''}`,
    ],
    ['first seen', formatInstant(s.firstSeenAt)],
    ['run', s.runId],
    ['rationale', s.suggestion.rationale],
  ])
  const evidence = renderTable(
    ['source', 'record', 'field', 'value'],
    s.suggestion.evidence.map((e) => [
      e.source,
      e.recordId,
      e.field,
      Array.isArray(e.value) ? e.value.join(', ') : e.value === null ? 'null' : String(e.value),
    ]),
  )
  const plan = s.suggestion.actions.length
    ? s.suggestion.actions
        .map(
          (a) =>
            `${a.step}. ${a.system} ${a.operation} ${clean(a.targetName ?? a.target)} [${a.automation}]\n   ${clean(a.instructions)}` +
            a.prerequisites.map((p) => `\n   requires: ${clean(p)}`).join('') +
            a.warnings.map((w) => `\n   warning: ${clean(w)}`).join(''),
        )
        .join('\n')
    : '(no automated plan: review the device)'
  const findings = s.suggestion.findings.map(
    (f) => `- ${f.rule} (${f.category}, ${f.severity}): ${clean(f.message)}`,
  )
  return `${head}\nEvidence:\n${evidence}\nPlan:\n${plan}\n${findings.length ? `\nFindings:\n${findings.join('\n')}\n` : ''}`
}
