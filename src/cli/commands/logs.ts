/** @module `offboard logs`: the append-only, hash-chained audit log, and `--verify` to detect tampering. */
import { type Command, InvalidArgumentError } from 'commander'
import type { AuditEntry } from '../../agent/audit.js'
import { formatOption, type OutputFormat, outputFormat, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, storeOpener, withStore } from '../../agent/context.js'
import { cellText, renderJson, renderTable } from '../../agent/format.js'
import { AuditTamperedError } from '../../agent/logs-errors.js'
import { parseAsOf, parsePositiveInt } from '../parse.js'

interface LogsOptions {
  since?: number
  tenant?: string
  limit?: number
  format?: OutputFormat
  verify?: boolean
}

/** `--since`: an ISO date-time, or a look-back like `7d` or `12h`. */
export function parseSince(value: string, now: () => number = Date.now): number {
  const rel = /^(\d+)([dh])$/.exec(value.trim())
  if (rel) return now() - Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000)
  try {
    return parseAsOf(value)
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message} Or a look-back such as 7d or 12h.`)
  }
}

/** The services load with the database layer, only when a command runs. */
const services = () => import('../../agent/logs.js')

export function registerLogs(program: Command, deps: CommandDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  program
    .command('logs')
    .summary('the audit log: agent changes, runs, permission failures, actions, task changes')
    .description(
      'Every entry holds the hash of the one before it, so a changed, inserted or deleted entry breaks the chain; ' +
        '--verify walks the chain and names the first bad entry (exit code 1). Keep the printed head hash somewhere ' +
        'else: the newest entries being cut off can only be noticed against it.',
    )
    .option('--since <when>', 'entries from this time on: ISO date-time, or a look-back like 7d, 12h', (v) =>
      parseSince(v),
    )
    .option('--tenant <id>', "only this tenant's entries")
    .option('--limit <n>', 'at most n entries (the oldest first)', parsePositiveInt('--limit'))
    .option('--verify', 'verify the hash chain instead of listing')
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Examples:
  offboard logs --since 7d
  offboard logs --tenant 72f988bf-… --format json
  offboard logs --verify`,
    )
    .action((opts: LogsOptions) =>
      withStore(open, async (store) => {
        const format = outputFormat(opts.format)
        if (opts.verify) {
          const result = await (await services()).verifyAuditLog(store, actorOf(deps))
          if (format === 'json') await write(renderJson(result))
          if (!result.ok) throw new AuditTamperedError(result)
          if (format !== 'json')
            await write(
              `Audit log verified: ${result.entries} entries, chain intact.\nHead: entry ${result.headSeq}, hash ${result.headHash}\n`,
            )
          return
        }
        const entries = await (await services()).listAuditLog(store, actorOf(deps), {
          ...(opts.since !== undefined ? { since: new Date(opts.since) } : {}),
          ...(opts.tenant ? { tenantId: opts.tenant } : {}),
          ...(opts.limit ? { limit: opts.limit } : {}),
        })
        await write(format === 'json' ? renderJson(entries) : renderEntries(entries))
      }),
    )
}

function change(e: AuditEntry): string {
  const show = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v))
  const before = show(e.before)
  const after = show(e.after)
  return before && after ? `${before} -> ${after}` : before || after
}

export function renderEntries(entries: readonly AuditEntry[]): string {
  return renderTable(
    ['seq', 'at', 'actor', 'action', 'tenant', 'target', 'result', 'change'],
    entries.map((e) => [e.seq, e.at, e.actor, e.action, e.tenantId, e.target, e.result, cellText(change(e))]),
    '(no entries)',
  )
}
