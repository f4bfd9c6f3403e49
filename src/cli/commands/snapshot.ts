/** @module `offboard snapshot`: export the live tenant in the snapshot format (offline analysis, audits, bug reports). */
import { once } from 'node:events'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import type { AnyRecord } from '../../domain/device.js'
import { loadTenantConfig } from '../../lib/config.js'
import { ConfigError, SourceError, UsageError } from '../../lib/errors.js'
import { SOURCES } from '../../sources/index.js'
import { fetchRawPages, type LiveClients } from '../../sources/read-live.js'
import type { SourceDefinition } from '../../sources/source.js'
import { TEAMS_COLLECTION, TEAMS_ENDPOINT, TEAMS_READ_PERMISSION } from '../../sources/teams/index.js'
import { note, progressEnabled } from '../output.js'
import { connectTenant } from '../tenant.js'

interface SnapshotOptions {
  out: string
  config?: string
  jsonl?: boolean
  force?: boolean
  quiet?: boolean
}

export function registerSnapshot(program: Command): void {
  program
    .command('snapshot')
    .summary('export the live tenant as a snapshot folder')
    .description(
      'Reads Intune, Entra ID, Windows Autopilot and Defender for Endpoint (and the Teams devices inventory when\n' +
        'allowed) and writes them in the snapshot format that `offboard run --snapshot` reads. The folder appears\n' +
        'only when every source was read in full; a failure leaves any previous snapshot there untouched.',
    )
    .requiredOption('--out <dir>', 'folder to write (must not exist or be empty, unless --force)')
    .option('--config <file>', 'tenant config file (default: offboard.config.json, then the environment)')
    .option('--jsonl', 'write .jsonl files (one record per line), for large tenants')
    .option('--force', 'replace an existing snapshot folder')
    .option('-q, --quiet', 'no progress messages on stderr')
    .addHelpText(
      'after',
      '\nExample:\n  OFFBOARD_TENANT_ID=… OFFBOARD_CLIENT_ID=… OFFBOARD_CLIENT_SECRET=… offboard snapshot --out ./export-2026-11-01',
    )
    .action(async (opts: SnapshotOptions) => {
      const config = await loadTenantConfig(opts.config)
      if (!config)
        throw new ConfigError(
          'no tenant is configured.',
          "Set OFFBOARD_TENANT_ID (and the sign-in variables) or write offboard.config.json; see 'offboard doctor --help'.",
        )
      const existing = existsSync(opts.out) ? await readdir(opts.out) : []
      if (existing.length > 0 && !opts.force)
        throw new UsageError(
          `${opts.out} is not empty; refusing to overwrite it.`,
          'Choose a new folder, or pass --force.',
        )
      const { clients } = await connectTenant(config)
      const progress = progressEnabled(opts.quiet)
      const counts = await writeSnapshot(clients, opts.out, {
        tenantId: config.tenantId,
        jsonl: Boolean(opts.jsonl),
        disabled: config.disabledSources,
        progress,
      })
      note(!opts.quiet, `Snapshot of tenant ${config.tenantId} written to ${opts.out}:`)
      for (const [name, n] of Object.entries(counts))
        note(!opts.quiet, `  ${name.padEnd(34)} ${n.toLocaleString('en-US')} records`)
    })
}

/** Writes every collection into a temporary sibling folder, then moves it into place. */
export async function writeSnapshot(
  clients: LiveClients,
  out: string,
  opts: {
    tenantId: string
    jsonl: boolean
    disabled: readonly string[]
    progress: boolean
    now?: () => number
  },
): Promise<Record<string, number>> {
  const tmp = `${out.replace(/\/$/, '')}.partial-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { recursive: true })
  const counts: Record<string, number> = {}
  try {
    const takenAt = new Date((opts.now ?? Date.now)()).toISOString()
    for (const def of Object.values(SOURCES) as unknown as SourceDefinition<
      Record<string, unknown>,
      AnyRecord
    >[]) {
      if (opts.disabled.includes(def.name)) continue
      note(opts.progress, `  reading ${def.title}…`)
      counts[def.collection] = await writeCollection(
        join(tmp, def.collection),
        opts.jsonl,
        fetchRawPages(clients, def),
      )
    }
    if (clients.graphBeta) {
      try {
        const pages = clients.graphBeta.pages<unknown>(TEAMS_ENDPOINT.path, {
          source: 'teams',
          permission: TEAMS_READ_PERMISSION,
          top: 0,
        })
        counts[TEAMS_COLLECTION] = await writeCollection(join(tmp, TEAMS_COLLECTION), opts.jsonl, pages)
      } catch (err) {
        // The Teams inventory is optional (beta, its own permission); without it Teams devices are recognised by maker.
        if (!(err instanceof SourceError)) throw err
        await rm(join(tmp, `${TEAMS_COLLECTION}.${opts.jsonl ? 'jsonl' : 'json'}`), { force: true })
        note(opts.progress, `  Teams devices inventory not exported: ${err.message}`)
      }
    }
    await writeFile(
      join(tmp, 'meta.json'),
      `${JSON.stringify({ tenantId: opts.tenantId, takenAt }, null, 2)}\n`,
    )
    const old = `${out.replace(/\/$/, '')}.old-${process.pid}`
    if (existsSync(out)) await rename(out, old)
    await rename(tmp, out)
    await rm(old, { recursive: true, force: true })
    return counts
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
}

async function writeCollection(
  base: string,
  jsonl: boolean,
  pages: AsyncIterable<{ items: unknown[] }>,
): Promise<number> {
  const stream = createWriteStream(`${base}.${jsonl ? 'jsonl' : 'json'}`, { encoding: 'utf8' })
  const write = async (text: string) => {
    if (!stream.write(text)) await once(stream, 'drain')
  }
  let n = 0
  try {
    if (!jsonl) await write('{\n  "value": [\n')
    for await (const page of pages) {
      for (const item of page.items) {
        if (jsonl) await write(`${JSON.stringify(item)}\n`)
        else await write(`${n > 0 ? ',\n' : ''}    ${JSON.stringify(item)}`)
        n++
      }
    }
    if (!jsonl) await write('\n  ]\n}\n')
  } finally {
    stream.end()
    await once(stream, 'close')
  }
  return n
}
