/** @module `offboard demo`: write the deterministic demo tenant as a snapshot folder. */
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { DEMO_AS_OF, MAX_DEMO_DEVICES, writeDemoSnapshot } from '../../demo/generate.js'
import { UsageError } from '../../lib/errors.js'
import { SOURCES } from '../../sources/index.js'
import { TEAMS_COLLECTION } from '../../sources/teams/index.js'
import { note } from '../output.js'
import { parsePositiveInt } from '../parse.js'
import { DEFAULT_DEMO_DEVICES, DEFAULT_DEMO_SEED } from './run.js'

interface DemoCommandOptions {
  out: string
  devices?: number
  seed?: number
  asOf?: string
  jsonl?: boolean
  force?: boolean
  quiet?: boolean
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('write the built-in demo tenant as a snapshot folder')
    .description(
      'Writes a deterministic, realistic tenant in the snapshot format: platform and ownership mix, Autopilot and\n' +
        'Defender coverage, servers outside Intune, and every situation the rules and skip reasons cover.\n' +
        'The same --devices and --seed always give byte-identical files.',
    )
    .requiredOption('--out <dir>', 'folder to write (created; must be empty unless --force)')
    .option(
      '--devices <n>',
      `number of physical devices (default ${DEFAULT_DEMO_DEVICES}, up to 1,000,000)`,
      parsePositiveInt('--devices', MAX_DEMO_DEVICES),
    )
    .option('--seed <n>', `random seed (default ${DEFAULT_DEMO_SEED})`, parsePositiveInt('--seed'))
    .option('--as-of <datetime>', `the instant the snapshot is taken (default ${DEMO_AS_OF})`)
    .option('--jsonl', 'write .jsonl files (one record per line), for large tenants')
    .option('--force', 'write into a folder that is not empty (files of the same name are replaced)')
    .option('-q, --quiet', 'no progress messages on stderr')
    .addHelpText(
      'after',
      '\nExample:\n  offboard demo --out ./demo-tenant --devices 2000 --seed 7\n  offboard run --snapshot ./demo-tenant',
    )
    .action(async (opts: DemoCommandOptions) => {
      const existing = await readdir(opts.out).catch(() => [])
      if (existing.length > 0 && !opts.force) {
        throw new UsageError(
          `${opts.out} is not empty; refusing to overwrite it.`,
          'Choose an empty folder, or pass --force.',
        )
      }
      if (existing.length > 0) {
        // A previous export in the other format would leave both x.json and x.jsonl, which the reader refuses.
        const collections = [...Object.values(SOURCES).map((d) => d.collection), TEAMS_COLLECTION]
        await Promise.all(
          collections
            .flatMap((c) => [`${c}.json`, `${c}.jsonl`])
            .map((f) => rm(join(opts.out, f), { force: true })),
        )
      }
      const devices = opts.devices ?? DEFAULT_DEMO_DEVICES
      const seed = opts.seed ?? DEFAULT_DEMO_SEED
      const result = await writeDemoSnapshot(opts.out, {
        devices,
        seed,
        ...(opts.asOf ? { asOf: opts.asOf } : {}),
        jsonl: Boolean(opts.jsonl),
      })
      const progress = !opts.quiet
      note(
        progress,
        `Wrote the demo tenant (${devices.toLocaleString('en-US')} devices, seed ${seed}) to ${opts.out}:`,
      )
      for (const [name, count] of Object.entries(result.counts))
        note(progress, `  ${name.padEnd(34)} ${count.toLocaleString('en-US')} records`)
    })
}
