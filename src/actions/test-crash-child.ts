/**
 * @module A child process for the kill -9 tests: runs `offboard act --all --confirm` (or `--resume`) on a PGlite
 * data folder against the simulator, and prints one line per durable step so the parent knows when to kill it.
 * Not part of the product (main.ts wires the commands); mode `env` signs in through the OFFBOARD_* variables.
 */
import { Command } from 'commander'
import { registerAct } from '../cli/commands/act.js'
import { clientsFor } from '../cli/tenant.js'
import { LoopbackClientCredentials } from '../lib/loopback-credentials.js'
import { openStore } from '../store/store.js'

const [simUrl, tenantId, dataDir, mode] = process.argv.slice(2) as [string, string, string, string]
const tokens = new LoopbackClientCredentials(simUrl, tenantId, 'offboard-sim', 'offboard-sim-secret')
const graph = clientsFor({ graph: `${simUrl}/v1.0`, defender: simUrl }, tokens, { baseBackoffMs: 5 }).graph
const program = new Command().exitOverride()
// `env`: sign in as the real CLI does, from the OFFBOARD_* variables (the HTTPS simulator, NODE_EXTRA_CA_CERTS).
const viaEnv = mode === 'env'
registerAct(program, {
  openStore: () => openStore({ dataDir, lockWaitMs: 10_000 }),
  env: viaEnv ? process.env : { OFFBOARD_TENANT_ID: tenantId, OFFBOARD_USER: 'alice' },
  ...(viaEnv ? {} : { connect: async () => graph }),
  progress: false,
  // One line, so the parent can tell the result from the step lines.
  write: async (text) => void process.stdout.write(`result ${JSON.stringify(JSON.parse(text))}\n`),
  onEvent: (e) => void process.stdout.write(`${e.type}\n`),
})
const args = mode === 'resume' ? ['act', '--resume'] : ['act', '--all', '--confirm', '--max-share', '100']
await program.parseAsync(['node', 'offboard', ...args, '--format', 'json'])
process.stdout.write('exit\n')
