/** @module `offboard tasks` and `offboard task …`: track suggestions across runs — add, assign, set status, comment, complete. */
import { Argument, type Command, Option } from 'commander'
import { formatOption, type OutputFormat, outputFormat, tenantOption, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, resolveTenant, storeOpener, withStore } from '../../agent/context.js'
import { formatInstant, renderCsv, renderFields, renderJson, renderTable } from '../../agent/format.js'
import { WorkStatus } from '../../agent/model.js'
import type { TaskView } from '../../agent/tasks.js'

interface FormatOnly {
  format?: OutputFormat
}

/** The services load with the database layer, only when a command runs. */
const services = () => import('../../agent/tasks.js')

export function registerTasks(program: Command, deps: CommandDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  const env = deps.env ?? process.env
  const actor = () => actorOf(deps)
  const print = (task: TaskView, format: OutputFormat | undefined, note: string) =>
    write(outputFormat(format) === 'json' ? renderJson(task) : `${note}\n\n${renderTask(task)}`)

  program
    .command('tasks')
    .summary('list tasks, and whether the latest run still flags each device')
    .description(
      'Tasks keep a copy of their suggestion and the device ids, so they survive re-runs. "still flagged" says whether ' +
        "the tenant's latest completed run still suggests that device (matched by its stable ids).",
    )
    .addOption(tenantOption())
    .addOption(new Option('--status <status>', 'only this status').choices(WorkStatus.options))
    .option('--assignee <user>', 'only tasks assigned to this user')
    .addOption(formatOption(['table', 'json', 'csv']))
    .action((opts: { tenant?: string; status?: WorkStatus; assignee?: string; format?: OutputFormat }) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        const tasks = await (await services()).listTasks(store, actor(), tenant, {
          ...(opts.status ? { status: opts.status } : {}),
          ...(opts.assignee ? { assignee: opts.assignee } : {}),
        })
        await write(renderTasks(tasks, outputFormat(opts.format)))
      }),
    )

  const task = program
    .command('task')
    .summary('add a suggestion to Tasks, assign it, set its status, comment, complete')
    .addHelpText(
      'after',
      `
Examples:
  offboard task add sg-a1fd0b3fda96e371
  offboard task assign 3 bob@contoso.com
  offboard task status 3 inProgress
  offboard task comment 3 "BitLocker keys exported, waiting for the owner."
  offboard task complete 3`,
    )

  task
    .command('add')
    .summary('add a current suggestion to Tasks (the task keeps a copy of it)')
    .argument('<suggestion-id>', 'suggestion id (or an unambiguous prefix)')
    .addOption(tenantOption())
    .addOption(formatOption())
    .action((suggestionId: string, opts: FormatOnly & { tenant?: string }) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        const t = await (await services()).addTask(store, actor(), tenant, suggestionId)
        await print(t, opts.format, `Added as task ${t.id}.`)
      }),
    )

  task
    .command('assign')
    .summary('assign a task to a user')
    .argument('<id>', 'task id')
    .argument('<user>', 'user name (once users are set up, one of them)')
    .addOption(formatOption())
    .action((id: string, user: string, opts: FormatOnly) =>
      withStore(open, async (store) => {
        await print(
          await (await services()).assignTask(store, actor(), id, user),
          opts.format,
          `Task ${id} assigned to ${user}.`,
        )
      }),
    )

  task
    .command('unassign')
    .summary('remove the assignee of a task')
    .argument('<id>', 'task id')
    .addOption(formatOption())
    .action((id: string, opts: FormatOnly) =>
      withStore(open, async (store) => {
        await print(
          await (await services()).assignTask(store, actor(), id, null),
          opts.format,
          `Task ${id} unassigned.`,
        )
      }),
    )

  task
    .command('status')
    .summary('set the status of a task')
    .argument('<id>', 'task id')
    .addArgument(new Argument('<status>', 'notStarted, inProgress or completed').choices(WorkStatus.options))
    .addOption(formatOption())
    .action((id: string, status: WorkStatus, opts: FormatOnly) =>
      withStore(open, async (store) => {
        await print(
          await (await services()).setTaskStatus(store, actor(), id, status),
          opts.format,
          `Task ${id} is now ${status}.`,
        )
      }),
    )

  task
    .command('comment')
    .summary('add a comment to a task')
    .argument('<id>', 'task id')
    .argument('<text>', 'the comment')
    .addOption(formatOption())
    .action((id: string, text: string, opts: FormatOnly) =>
      withStore(open, async (store) => {
        await print(
          await (await services()).commentTask(store, actor(), id, text),
          opts.format,
          `Comment added to task ${id}.`,
        )
      }),
    )

  task
    .command('complete')
    .summary('mark a task complete')
    .argument('<id>', 'task id')
    .addOption(formatOption())
    .action((id: string, opts: FormatOnly) =>
      withStore(open, async (store) => {
        await print(
          await (await services()).completeTask(store, actor(), id),
          opts.format,
          `Task ${id} completed.`,
        )
      }),
    )

  task
    .command('show')
    .summary('show a task with its suggestion copy and comments')
    .argument('<id>', 'task id')
    .addOption(formatOption())
    .action((id: string, opts: FormatOnly) =>
      withStore(open, async (store) => {
        const t = await (await services()).getTask(store, actor(), id)
        await write(outputFormat(opts.format) === 'json' ? renderJson(t) : renderTask(t))
      }),
    )
}

export function renderTasks(tasks: readonly TaskView[], format: OutputFormat): string {
  if (format === 'json') return renderJson(tasks)
  const rows = tasks.map((t) => [
    t.id,
    t.status,
    t.assignee,
    t.suggestion.device.displayName,
    t.suggestion.category,
    t.stillFlagged ? 'yes' : 'no',
    t.suggestionId,
    t.updatedAt,
  ])
  const columns = ['id', 'status', 'assignee', 'device', 'category', 'still flagged', 'suggestion', 'updated']
  if (format === 'csv') return renderCsv(columns, rows)
  return renderTable(columns, rows, "No tasks. Add one with 'offboard task add SUGGESTION_ID'.")
}

export function renderTask(t: TaskView): string {
  const d = t.suggestion.device
  const flagged = t.stillFlagged
    ? `yes, by suggestion ${t.flaggedBy} of run ${t.latestRunId}`
    : t.latestRunId
      ? `no: run ${t.latestRunId} does not flag this device`
      : 'unknown: no completed run yet'
  const head = renderFields([
    ['task', t.id],
    ['status', t.status],
    ['assignee', t.assignee ?? '(nobody)'],
    ['device', `${d.displayName ?? '(no name)'} (${d.platform}, serial ${d.serialNumber ?? '-'})`],
    ['suggestion', `${t.suggestionId} (${t.suggestion.category}, ${t.suggestion.severity})`],
    ['still flagged', flagged],
    ['created', `${formatInstant(t.createdAt)} by ${t.createdBy}`],
    ['updated', t.updatedAt],
    ['completed', t.completedAt],
    ['rationale', t.suggestion.rationale],
  ])
  const comments = t.comments.length
    ? t.comments.map((c) => renderFields([[`${formatInstant(c.at)} ${c.author}`, c.text]])).join('')
    : '(no comments)\n'
  return `${head}\nComments:\n${comments}`
}
