/**
 * @module `offboard keys export`: save the BitLocker recovery keys of the Entra objects the current suggestions
 * would delete to a file the admin keeps, since deleting an Entra object deletes its keys (reference §2.5). The
 * Entra delete step refuses an object whose keys were neither exported this way nor acknowledged (--keys-exported).
 */
import { type Command, Option } from 'commander'
import { formatOption, type OutputFormat, outputFormat, tenantOption, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, resolveTenant, storeOpener, withStore } from '../../agent/context.js'
import { renderJson, renderTable } from '../../agent/format.js'
import { Category } from '../../domain/report.js'
import { UsageError } from '../../lib/errors.js'
import type { ApiClient } from '../../lib/graph-client.js'
import { sanitizeText as clean } from '../../report/sanitize.js'
import type { Store } from '../../store/store.js'

type KeysExportResult = import('../../actions/keys-export.js').KeysExportResult
type ExportTarget = import('../../actions/keys-export.js').ExportTarget

export interface KeysDeps extends CommandDeps {
  /** The Graph client for the tenant; default: sign in from the OFFBOARD_* configuration. */
  connect?: (env: NodeJS.ProcessEnv) => Promise<ApiClient>
  /** The export's timestamp (tests). */
  now?: () => Date
}

interface ExportOptions {
  output: string
  suggestion?: string[]
  category?: Category
  all?: boolean
  force?: boolean
  tenant?: string
  format?: OutputFormat
}

/**
 * The Entra objects to export: the targets of `entra:delete` steps of the chosen suggestions, or with `all` every
 * Entra record of every current suggestion. Each object once.
 * @throws NotFoundError when the tenant has no completed run or an id matches no suggestion.
 */
export async function selectTargets(
  store: Store,
  actor: string,
  tenantId: string,
  opts: Pick<ExportOptions, 'suggestion' | 'category' | 'all'>,
): Promise<ExportTarget[]> {
  const { latestCompletedRun } = await import('../../agent/runs.js')
  const { getSuggestion, listSuggestions } = await import('../../agent/suggestions.js')
  const { NotFoundError } = await import('../../agent/errors.js')
  if (!(await latestCompletedRun(store.db, tenantId)))
    throw new NotFoundError(
      `tenant ${tenantId} has no completed run, so there are no suggestions whose keys to export.`,
      'Run offboard run first.',
    )
  const chosen = opts.suggestion?.length
    ? await Promise.all(opts.suggestion.map((id) => getSuggestion(store, actor, tenantId, id)))
    : await listSuggestions(store, actor, tenantId, opts.category ? { category: opts.category } : {})
  const out = new Map<string, ExportTarget>()
  for (const { suggestion: s } of chosen) {
    if (opts.all) {
      for (const r of s.device.records)
        if (r.source === 'entra' && !out.has(r.id)) out.set(r.id, { objectId: r.id, displayName: r.name })
      continue
    }
    for (const a of s.actions)
      if (a.system === 'entra' && a.operation === 'delete' && !out.has(a.target))
        out.set(a.target, { objectId: a.target, displayName: a.targetName })
  }
  return [...out.values()]
}

export function registerKeys(program: Command, deps: KeysDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  const env = deps.env ?? process.env
  const connect =
    deps.connect ?? (async (e: NodeJS.ProcessEnv) => (await import('./act.js')).connectFromConfig(e))

  const keys = program
    .command('keys')
    .summary('BitLocker recovery keys: export them before Entra objects are deleted')
    .description(
      'Deleting an Entra device object also deletes the BitLocker recovery keys stored on it, and it cannot be undone. ' +
        "offboard's Entra delete step therefore runs only for objects whose keys were exported with offboard keys export " +
        '(or when you pass --keys-exported to offboard act because you saved them another way).',
    )
  keys.exitOverride()

  keys
    .command('export')
    .summary('save the recovery keys of the Entra objects the current suggestions would delete to a file')
    .description(
      'Reads the BitLocker recovery keys of each Entra object (listed by its deviceId, each value read with ' +
        "$select=key, which Microsoft audits) and writes them to one JSON file, readable by you only (mode 0600). The file holds secrets: anyone with it can unlock those disks. Keep it where you keep other recovery secrets (a password vault or an encrypted share), not in a ticket or a chat, and delete local copies once it is stored. offboard's audit log records which objects were exported, how many keys and to which file, never a key.",
    )
    .requiredOption('-o, --output <file>', 'the file to write (refused if it exists, unless --force)')
    .option('--suggestion <id...>', "export for these suggestions' Entra delete steps")
    .addOption(
      new Option('--category <category>', "export for this category's Entra delete steps").choices(
        Category.options,
      ),
    )
    .option('--all', 'export every Entra object of the current suggestions, not only those to be deleted')
    .option('--force', 'replace the file if it exists')
    .addOption(tenantOption())
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Needs the Graph application permission BitlockerKey.Read.All (BitlockerKey.ReadBasic.All lists keys but not
their values) and the offboard role actor or admin.

Examples:
  offboard keys export -o ./recovery-keys.json                 objects the current suggestions would delete
  offboard keys export -o ./stale-keys.json --category stale   only the stale suggestions
  offboard keys export -o ./all-keys.json --all --force        every Entra object in the suggestions, replace the file`,
    )
    .action((opts: ExportOptions) =>
      withStore(open, async (store) => {
        if (opts.all && (opts.suggestion?.length || opts.category))
          throw new UsageError(
            '--all exports every current suggestion; it takes no --suggestion or --category.',
          )
        if (opts.suggestion?.length && opts.category)
          throw new UsageError('choose suggestions with either --suggestion ID… or --category C, not both.')
        const format = outputFormat(opts.format)
        const tenantId = await resolveTenant(store, opts.tenant, env)
        const actor = actorOf(deps)
        const { authorize } = await import('../../agent/roles.js')
        // Reading recovery keys is as sensitive as acting on devices: the same role.
        await authorize(store, actor, 'disableDevices', { tenantId })
        const targets = await selectTargets(store, actor, tenantId, opts)
        if (targets.length === 0) {
          await write(
            format === 'json'
              ? renderJson({ file: null, tenantId, devices: [], skipped: [], keys: 0 })
              : 'No Entra object to export: no current suggestion has an Entra delete step. Use --all to export every Entra object of the suggestions.\n',
          )
          return
        }
        const { exportKeys } = await import('../../actions/keys-export.js')
        const result = await exportKeys(store, {
          tenantId,
          actor,
          graph: await connect(env),
          targets,
          file: opts.output,
          force: opts.force === true,
          ...(deps.now ? { now: deps.now } : {}),
        })
        await write(format === 'json' ? renderJson(result) : renderExport(result))
      }),
    )
}

function renderExport(r: KeysExportResult): string {
  const out: string[] = []
  out.push(
    renderTable(
      ['device', 'entra object', 'device id', 'keys'],
      r.devices.map((d) => [clean(d.displayName ?? ''), d.objectId, d.deviceId, d.keys]),
      '(no device exported)',
    ),
  )
  if (r.skipped.length) {
    out.push('\nNothing to export:\n')
    for (const s of r.skipped)
      out.push(`  ${clean(s.displayName ?? s.objectId)} (${s.objectId}): ${s.reason}\n`)
  }
  out.push(
    `\n${r.keys} recovery key${r.keys === 1 ? '' : 's'} of ${r.devices.length} device${r.devices.length === 1 ? '' : 's'} written to ${r.file} (mode 0600).\n`,
  )
  out.push('The file holds secrets: move it to where you keep recovery secrets, and remove local copies.\n')
  return out.join('')
}
