/** @module `offboard serve`: keeps the schedule — runs each tenant's agent every N hours (24 by default) while it is up. */
import type { Command } from 'commander'
import { formatOption, type OutputFormat, outputFormat, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, storeOpener, withStore } from '../../agent/context.js'
import { formatInstant } from '../../agent/format.js'
import { MAX_SCHEDULE_HOURS } from '../../agent/model.js'
import { type ServeEvent, type ServeHandle, startServe } from '../../agent/scheduler.js'
import { parsePositiveInt } from '../parse.js'

export { type ServeEvent, type ServeHandle, type ServeOptions, startServe } from '../../agent/scheduler.js'

/**
 * One scheduled run of a tenant, provided by the owner of `offboard run`: it records the run through
 * `withRecordedRun` with trigger `schedule` and actor `SCHEDULER_ACTOR`.
 */
export type RunOnce = (ctx: { tenantId: string; trigger: 'schedule' }) => Promise<void>

export interface ServeDeps extends CommandDeps {
  /** Install SIGINT/SIGTERM handlers (default true; tests turn it off). */
  signals?: boolean
  /** Called with the handle once the scheduler started (tests stop it from here). */
  onStart?: (handle: ServeHandle) => void
}

interface ServeCommandOptions {
  scheduleHours?: number
  tenant?: string
  format?: OutputFormat
}

export function registerServe(program: Command, runOnce: RunOnce, deps: ServeDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  program
    .command('serve')
    .summary('run the agents on their schedule (every 24 h by default) until stopped')
    .description(
      'Runs each tenant that has an agent every schedule-hours after its latest run (manual or scheduled), one run at ' +
        "a time per tenant. The next run time is shown by 'offboard agent show'. Ctrl-C stops scheduling; a run in " +
        'progress cannot be stopped, so serve waits for it (Ctrl-C again exits at once: the run is then marked ' +
        'failed at the next start and the previous suggestions stay).',
    )
    .option(
      '--schedule-hours <n>',
      "override every agent's schedule: run every n hours",
      parsePositiveInt('--schedule-hours', MAX_SCHEDULE_HOURS),
    )
    .option('--tenant <id>', 'schedule only this tenant')
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Output: one line per event (table), or one JSON object per line (json).

Examples:
  offboard serve
  offboard serve --schedule-hours 12 --format json`,
    )
    .action(async (opts: ServeCommandOptions) => {
      const actor = actorOf(deps)
      const { authorize } = await import('../../agent/roles.js')
      await withStore(open, (store) => authorize(store, actor, 'run', { tenantId: opts.tenant ?? null }))
      const json = outputFormat(opts.format) === 'json'
      let lastPlan = ''
      const print = (e: ServeEvent) => {
        if (e.event === 'schedule') {
          const plan = JSON.stringify(e.tenants.map((t) => [t.tenantId, t.nextRunAt]))
          if (plan === lastPlan) return
          lastPlan = plan
        }
        void write(json ? `${JSON.stringify(e)}\n` : `${formatInstant(e.at)}  ${describe(e)}\n`)
      }
      const handle = startServe({
        open,
        runOnce,
        onEvent: print,
        ...(opts.scheduleHours ? { scheduleHours: opts.scheduleHours } : {}),
        ...(opts.tenant ? { tenantId: opts.tenant } : {}),
      })
      deps.onStart?.(handle)
      let signalled = false
      const onSignal = () => {
        if (signalled) process.exit(130)
        signalled = true
        const running = handle.running()
        process.stderr.write(
          running
            ? `Stopping after the run of tenant ${running} finishes (runs cannot be stopped). Ctrl-C again exits now.\n`
            : 'Stopping.\n',
        )
        void handle.stop()
      }
      if (deps.signals !== false) {
        process.on('SIGINT', onSignal)
        process.on('SIGTERM', onSignal)
      }
      try {
        await handle.done
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    })
}

function describe(e: ServeEvent): string {
  switch (e.event) {
    case 'schedule':
      return e.tenants.length
        ? `next runs: ${e.tenants.map((t) => `${t.tenantId} at ${formatInstant(t.nextRunAt)} (every ${t.scheduleHours} h)`).join('; ')}`
        : "no agents to schedule yet ('offboard agent create'); checking again in 15 minutes"
    case 'runStarting':
      return `run of tenant ${e.tenantId} starting`
    case 'runFinished':
      return `run of tenant ${e.tenantId} finished`
    case 'runFailed':
      return `run of tenant ${e.tenantId} failed: ${e.error}`
    case 'error':
      return `cannot read the schedule: ${e.error}; retrying in 15 minutes`
    case 'stopped':
      return 'stopped'
  }
}
