/** @module `offboard simulate`: run the local Graph/Defender simulator over the demo tenant or a snapshot until stopped. */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { MAX_DEMO_DEVICES } from '../demo/generate.js'
import { DEFAULT_APP, DEFAULT_USER } from './permissions.js'
import type { FaultOptions, Simulator } from './types.js'

export const DEFAULT_SIMULATE_DEVICES = 500
export const DEFAULT_SIMULATE_SEED = 1
const MAX_PORT = 65_535

interface SimulateOptions {
  devices?: number
  snapshot?: string
  seed?: number
  port?: number
  https?: boolean
  rate429?: number
  rate5xx?: number
  latency?: number
  resetRate?: number
  truncateRate?: number
  nextlinkLoop?: boolean
  faultSeed?: number
}

/** Seams for tests: where output goes and what stops the server (default: SIGINT or SIGTERM). */
export interface SimulateIo {
  write?: (text: string) => void
  waitForStop?: (sim: Simulator) => Promise<void>
}

function parseWhole(label: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`${label} must be a whole number, got "${value}".`)
    const n = Number(value)
    if (n < min || n > max)
      throw new InvalidArgumentError(
        `${label} must be between ${min} and ${max.toLocaleString('en-US')}, got ${n}.`,
      )
    return n
  }
}

function parseRate(label: string) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
      throw new InvalidArgumentError(
        `${label} is a share of requests between 0 and 1 (e.g. 0.1), got "${value}".`,
      )
    return n
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** Shell-safe single-quoted value for the `export` lines. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

function describeFaults(f: FaultOptions): string {
  const parts: string[] = []
  if (f.rate429) parts.push(`429 ${f.rate429}`)
  if (f.rate5xx) parts.push(`5xx ${f.rate5xx}`)
  if (f.latencyMs) parts.push(`latency ${f.latencyMs} ms`)
  if (f.resetRate) parts.push(`reset ${f.resetRate}`)
  if (f.truncateRate) parts.push(`truncate ${f.truncateRate}`)
  if (f.nextLinkLoop) parts.push('nextLink loop')
  return parts.length ? `${parts.join(', ')} (seed ${f.seed})` : 'none'
}

/** What `simulate` prints once listening: connection details and ready-to-paste environment lines. */
export function describeSimulator(sim: Simulator, dataLine: string, faults: FaultOptions): string {
  const env: [string, string][] = [
    ['OFFBOARD_TENANT_ID', sim.tenantId],
    ['OFFBOARD_CLIENT_ID', DEFAULT_APP.clientId],
    ['OFFBOARD_CLIENT_SECRET', DEFAULT_APP.clientSecret!],
    ['OFFBOARD_GRAPH_URL', sim.graphBaseUrl],
    ['OFFBOARD_DEFENDER_URL', sim.defenderBaseUrl],
    ['OFFBOARD_AUTHORITY_HOST', sim.authorityHost],
  ]
  if (sim.caPath) env.push(['NODE_EXTRA_CA_CERTS', sim.caPath])
  const lines = [
    `offboard simulator listening on ${sim.url}`,
    `  tenant id      ${sim.tenantId}`,
    `  client id      ${DEFAULT_APP.clientId}`,
    `  client secret  ${DEFAULT_APP.clientSecret}`,
    // @azure/identity signs users in over HTTPS only.
    ...(sim.caPath
      ? [
          `  user sign-in   OFFBOARD_AUTH=deviceCode: ${DEFAULT_USER.upn} (Cloud Device Administrator) approves it`,
        ]
      : []),
    ...(sim.caPath ? [`  CA certificate ${sim.caPath}`] : []),
    `  data           ${dataLine}`,
    `  faults         ${describeFaults(faults)}`,
    `  calls log      ${sim.url}/_simulator/calls`,
    '',
    'Paste into another shell:',
    ...env.map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    '',
    'Press Ctrl+C to stop.',
    '',
  ]
  return lines.join('\n')
}

export function registerSimulate(program: Command, io: SimulateIo = {}): void {
  const write = io.write ?? ((text: string) => process.stdout.write(text))
  const waitForStop = io.waitForStop ?? (() => waitForSignal())
  program
    .command('simulate')
    .summary('run a local server that speaks the Graph and Defender APIs, for trying offboard safely')
    .description(
      'Serves Intune, Entra ID, Autopilot, Teams (beta) and Defender for Endpoint over HTTP(S) on 127.0.0.1, with\n' +
        'the real paging, permissions, error bodies, $batch, Defender rate limits, a client-credentials token\n' +
        'endpoint and device code sign-in (approved automatically as a Cloud Device Administrator), over the demo\n' +
        'tenant or a snapshot folder. Mutations change its data, so a plan can be executed end to end. Faults\n' +
        '(throttling, 5xx, resets, truncated bodies, looping nextLinks) are repeatable by seed.',
    )
    .addOption(
      new Option('--devices <n>', `demo tenant size (default ${DEFAULT_SIMULATE_DEVICES})`)
        .argParser(parseWhole('--devices', 1, MAX_DEMO_DEVICES))
        .conflicts('snapshot'),
    )
    .option('--snapshot <dir>', 'serve the raw exports of a snapshot folder instead of the demo tenant')
    .option(
      '--seed <n>',
      `demo tenant seed (default ${DEFAULT_SIMULATE_SEED})`,
      parseWhole('--seed', 0, Number.MAX_SAFE_INTEGER),
    )
    .option('--port <n>', 'port on 127.0.0.1 (default: any free port)', parseWhole('--port', 0, MAX_PORT))
    .option(
      '--https',
      'serve HTTPS with a self-signed certificate (needed by @azure/identity; trust it with NODE_EXTRA_CA_CERTS)',
    )
    .option(
      '--rate-429 <share>',
      'share of data requests answered 429 with Retry-After (0..1)',
      parseRate('--rate-429'),
    )
    .option('--rate-5xx <share>', 'share answered 503/500/504 (0..1)', parseRate('--rate-5xx'))
    .option('--latency <ms>', 'delay added to every data response', parseWhole('--latency', 0, 600_000))
    .option(
      '--reset-rate <share>',
      'share of connections reset before any response (0..1)',
      parseRate('--reset-rate'),
    )
    .option(
      '--truncate-rate <share>',
      'share of responses cut off mid-body (0..1)',
      parseRate('--truncate-rate'),
    )
    .option('--nextlink-loop', "make a list's second page link back to its first page")
    .option(
      '--fault-seed <n>',
      'seed of the fault draws (default 1)',
      parseWhole('--fault-seed', 0, Number.MAX_SAFE_INTEGER),
    )
    .addHelpText(
      'after',
      `
Examples:
  offboard simulate                                   demo tenant of ${DEFAULT_SIMULATE_DEVICES} devices on a free port
  offboard simulate --devices 5000 --seed 7 --port 8443 --https
  offboard simulate --snapshot ./export-2026-11-01    serve a real export (unchanged records)
  offboard simulate --rate-429 0.1 --rate-5xx 0.02 --truncate-rate 0.01 --fault-seed 42

Then, in another shell, paste the printed export lines and run e.g. 'offboard run'.
The default app holds every permission; the token endpoint is <url>/<tenant>/oauth2/v2.0/token.`,
    )
    .action(async (opts: SimulateOptions) => {
      // The server (Fastify, certificates) loads only when the simulator starts, keeping `offboard --help` fast.
      const { loadSimulatorData } = await import('./load.js')
      const { startSimulator } = await import('./server.js')
      const seed = opts.seed ?? DEFAULT_SIMULATE_SEED
      const devices = opts.devices ?? DEFAULT_SIMULATE_DEVICES
      const data = opts.snapshot
        ? await loadSimulatorData({ snapshotDir: opts.snapshot })
        : await loadSimulatorData({ devices, seed })
      const faults: FaultOptions = {
        ...(opts.rate429 !== undefined ? { rate429: opts.rate429 } : {}),
        ...(opts.rate5xx !== undefined ? { rate5xx: opts.rate5xx } : {}),
        ...(opts.latency !== undefined ? { latencyMs: opts.latency } : {}),
        ...(opts.resetRate !== undefined ? { resetRate: opts.resetRate } : {}),
        ...(opts.truncateRate !== undefined ? { truncateRate: opts.truncateRate } : {}),
        ...(opts.nextlinkLoop ? { nextLinkLoop: true } : {}),
        seed: opts.faultSeed ?? 1,
      }
      const sim = await startSimulator({
        data,
        faults,
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.https ? { https: true } : {}),
      })
      const counts = `${data.managedDevices.length} Intune, ${data.devices.length} Entra, ${data.windowsAutopilotDeviceIdentities.length} Autopilot, ${data.machines.length} Defender records`
      const dataLine = opts.snapshot
        ? `snapshot ${opts.snapshot}: ${counts}`
        : `demo tenant, ${devices} devices, seed ${seed}: ${counts}`
      write(describeSimulator(sim, dataLine, faults))
      try {
        await waitForStop(sim)
      } finally {
        await sim.close()
      }
    })
}
