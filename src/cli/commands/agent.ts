/** @module `offboard agent …`: set up the agent of a tenant (identity, schedule, instructions), show, renew and remove it. */
import { type Command, Option } from 'commander'
import type { AgentView } from '../../agent/agents.js'
import { formatOption, type OutputFormat, outputFormat, tenantOption, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, resolveTenant, storeOpener, withStore } from '../../agent/context.js'
import { formatInstant, renderFields, renderJson } from '../../agent/format.js'
import { DEFAULT_SCHEDULE_HOURS, IDENTITY_IDLE_DAYS, MAX_SCHEDULE_HOURS } from '../../agent/model.js'
import { interpretInstructions, requireAllInterpreted } from '../../language/instructions.js'
import { AUTH_METHODS } from '../../lib/config.js'
import { parsePositiveInt } from '../parse.js'

interface CommonOptions {
  tenant?: string
  format?: OutputFormat
}

interface CreateOptions extends CommonOptions {
  admin: string
  auth?: string
  clientId?: string
  instructions?: string
  scheduleHours?: number
}

/** The services load with the database layer, only when a command runs. */
const services = () => import('../../agent/agents.js')

export function registerAgent(program: Command, deps: CommandDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  const env = deps.env ?? process.env
  const print = (view: AgentView, format: OutputFormat | undefined, note?: string) =>
    write(
      outputFormat(format) === 'json' ? renderJson(view) : `${note ? `${note}\n\n` : ''}${renderAgent(view)}`,
    )

  const agent = program
    .command('agent')
    .summary('set up and manage the agent of a tenant')
    .description(
      'The agent runs under an admin identity of one tenant (who, which tenant, how it signs in), on a schedule while ' +
        "'offboard serve' is up, with custom instructions applied to every run. One agent per tenant. " +
        `The identity expires after ${IDENTITY_IDLE_DAYS} consecutive days without a run; an administrator renews it.`,
    )

  agent
    .command('create')
    .summary('set up the agent for a tenant under an admin identity')
    .description(
      'Sets up the agent for one tenant. Only the identity is stored (who, how it signs in, the app id): secrets stay ' +
        'in the environment. When no user exists yet, you become the first administrator.',
    )
    .requiredOption('--tenant <id>', 'the Entra tenant id')
    .requiredOption('--admin <upn>', 'the admin identity the agent runs as, e.g. admin@contoso.com')
    .addOption(new Option('--auth <method>', 'how it signs in (default deviceCode)').choices(AUTH_METHODS))
    .option('--client-id <id>', 'application (client) id, for secret or certificate sign-in')
    .option('--instructions <text>', 'custom instructions applied to every run (plain text)')
    .option(
      '--schedule-hours <n>',
      `run every n hours while 'offboard serve' is up (default ${DEFAULT_SCHEDULE_HOURS})`,
      parsePositiveInt('--schedule-hours', MAX_SCHEDULE_HOURS),
    )
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Examples:
  offboard agent create --tenant 72f988bf-… --admin admin@contoso.com
  offboard agent create --tenant 72f988bf-… --admin admin@contoso.com --auth secret --client-id 3e1f… \\
      --schedule-hours 12 --instructions "Leave devices tagged LAB alone."`,
    )
    .action((opts: CreateOptions) =>
      withStore(open, async (store) => {
        const view = await (await services()).createAgent(store, actorOf(deps), {
          tenantId: opts.tenant!,
          adminUpn: opts.admin,
          ...(opts.auth ? { authMethod: opts.auth as (typeof AUTH_METHODS)[number] } : {}),
          ...(opts.clientId ? { clientId: opts.clientId } : {}),
          ...(opts.instructions !== undefined
            ? { instructions: checkedInstructions(opts.instructions) }
            : {}),
          ...(opts.scheduleHours ? { scheduleHours: opts.scheduleHours } : {}),
        })
        await print(view, opts.format, `Agent created for tenant ${view.tenantId}.`)
      }),
    )

  agent
    .command('show')
    .summary('show the agent: identity, expiry date, schedule and next run, instructions')
    .addOption(tenantOption())
    .addOption(formatOption())
    .action((opts: CommonOptions) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        await print(await (await services()).showAgent(store, actorOf(deps), tenant), opts.format)
      }),
    )

  agent
    .command('renew')
    .summary(`renew the agent identity: the ${IDENTITY_IDLE_DAYS} days start again`)
    .description(
      `Renews the agent identity (administrators only). Use it before the identity expires after ${IDENTITY_IDLE_DAYS} days ` +
        'without a run, or after it has expired: runs work again right away.',
    )
    .addOption(tenantOption())
    .addOption(formatOption())
    .action((opts: CommonOptions) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        const view = await (await services()).renewAgent(store, actorOf(deps), tenant)
        await print(
          view,
          opts.format,
          `Agent identity renewed; it now expires on ${formatInstant(view.expiresAt)}.`,
        )
      }),
    )

  agent
    .command('remove')
    .summary('remove the agent of a tenant (runs, suggestions, tasks and the log stay)')
    .addOption(tenantOption())
    .addOption(formatOption())
    .action((opts: CommonOptions) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        const view = await (await services()).removeAgent(store, actorOf(deps), tenant)
        await print(view, opts.format, `Agent of tenant ${tenant} removed. Its last settings were:`)
      }),
    )

  const instructions = agent.command('instructions').summary('the custom instructions applied to every run')
  instructions
    .command('set')
    .summary('replace the custom instructions (interpreted and shown first; "" clears them)')
    .argument('<text>', 'the instructions')
    .addOption(tenantOption())
    .addOption(formatOption())
    .addHelpText(
      'after',
      '\nThe instructions are interpreted before they are saved, and what each sentence changes is printed.\n' +
        'A sentence offboard cannot interpret is quoted with the reason, and nothing is saved.\n\n' +
        'Example:\n  offboard agent instructions set "Exclude devices whose name starts with LAB-. Leave devices with group tag Finance alone."',
    )
    .action((text: string, opts: CommonOptions) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        const effects = interpretedEffects(text)
        await print(
          await (await services()).setInstructions(store, actorOf(deps), tenant, text),
          opts.format,
          effects.length
            ? `Instructions saved; every run will apply:\n${effects.map((e) => `  - ${e}`).join('\n')}`
            : 'Instructions cleared.',
        )
      }),
    )
  instructions
    .command('show')
    .summary('print the custom instructions')
    .addOption(tenantOption())
    .addOption(formatOption())
    .action((opts: CommonOptions) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        const view = await (await services()).showAgent(store, actorOf(deps), tenant)
        await write(
          outputFormat(opts.format) === 'json'
            ? renderJson({ tenantId: tenant, instructions: view.instructions })
            : `${view.instructions || '(no instructions)'}\n`,
        )
      }),
    )

  agent
    .command('schedule')
    .summary("set how often 'offboard serve' runs the agent")
    .argument(
      '<hours>',
      `every this many hours (1–${MAX_SCHEDULE_HOURS})`,
      parsePositiveInt('hours', MAX_SCHEDULE_HOURS),
    )
    .addOption(tenantOption())
    .addOption(formatOption())
    .action((hours: number, opts: CommonOptions) =>
      withStore(open, async (store) => {
        const tenant = await resolveTenant(store, opts.tenant, env)
        await print(
          await (await services()).setSchedule(store, actorOf(deps), tenant, hours),
          opts.format,
          'Schedule saved.',
        )
      }),
    )
}

export function renderAgent(v: AgentView): string {
  const state = v.expired
    ? `EXPIRED on ${formatInstant(v.expiresAt)} after ${IDENTITY_IDLE_DAYS} days without a run; renew with 'offboard agent renew --tenant ${v.tenantId}'`
    : `active; expires ${formatInstant(v.expiresAt)} unless it runs or is renewed before`
  const next = v.nextRunAt
    ? `${formatInstant(v.nextRunAt)} (offboard serve, ${v.scheduledBy ?? 'unknown process'})`
    : "not scheduled: no 'offboard serve' is running"
  return renderFields([
    ['tenant', v.tenantId],
    ['admin identity', v.adminUpn],
    ['sign-in', `${v.authMethod}${v.clientId ? `, client id ${v.clientId}` : ''}`],
    ['identity', state],
    ['created', `${formatInstant(v.createdAt)} by ${v.createdBy}`],
    ['renewed', formatInstant(v.renewedAt)],
    ['schedule', `every ${v.scheduleHours} h`],
    ['next run', next],
    [
      'running',
      v.runningRun
        ? `run ${v.runningRun.id} since ${formatInstant(v.runningRun.startedAt)} (${v.runningRun.trigger}, by ${v.runningRun.actor})`
        : 'no',
    ],
    [
      'last run',
      v.lastRun
        ? `run ${v.lastRun.id} ${v.lastRun.status} ${formatInstant(v.lastRun.finishedAt ?? v.lastRun.startedAt)}${v.lastRun.error ? `: ${v.lastRun.error}` : ''}`
        : 'never',
    ],
    ['instructions', v.instructions || '(none)'],
  ])
}

/**
 * What each sentence of the instructions changes, in order.
 * @throws InstructionsError quoting any sentence that cannot be interpreted; nothing is saved then.
 */
function interpretedEffects(text: string): string[] {
  const interpretation = requireAllInterpreted(interpretInstructions(text))
  return interpretation.applied.map((a) => `"${a.sentence}": ${a.effect}`)
}

/** The instructions, once every sentence has been interpreted. */
function checkedInstructions(text: string): string {
  interpretedEffects(text)
  return text
}
