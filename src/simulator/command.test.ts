/** @module `offboard simulate` and loadSimulatorData: printed connection details, option validation, snapshot folders. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, CommanderError } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemoTenant, writeDemoSnapshot } from '../demo/generate.js'
import { registerSimulate } from './command.js'
import { loadSimulatorData } from './load.js'
import { call, GRAPH_SCOPE, getToken } from './test-support.js'
import type { Simulator } from './types.js'

/** Runs `simulate` with `args`; `whileRunning` gets the live simulator, then the command stops. */
async function simulate(args: string[], whileRunning: (sim: Simulator) => Promise<void> = async () => {}) {
  let output = ''
  let errors = ''
  const program = new Command().exitOverride().configureOutput({
    writeOut: (s) => {
      output += s
    },
    writeErr: (s) => {
      errors += s
    },
  })
  registerSimulate(program, {
    write: (text) => {
      output += text
    },
    waitForStop: whileRunning,
  })
  for (const cmd of program.commands) cmd.exitOverride()
  await program.parseAsync(['simulate', ...args], { from: 'user' })
  return { output, errors }
}

describe('offboard simulate', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'offboard-sim-test-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('prints the URL, credentials and ready-to-paste OFFBOARD_* lines, and serves until stopped', async () => {
    let served = 0
    const { output } = await simulate(
      ['--devices', '20', '--seed', '3', '--https', '--rate-429', '0'],
      async (sim) => {
        expect(sim.caPath).toBeTruthy()
        served = sim.data().devices.length
      },
    )
    expect(served).toBeGreaterThan(0)
    expect(output).toMatch(/^offboard simulator listening on https:\/\/127\.0\.0\.1:\d+$/m)
    const tenant = generateDemoTenant({ devices: 20, seed: 3 }).meta.tenantId
    expect(output).toContain(`export OFFBOARD_TENANT_ID=${tenant}`)
    for (const name of [
      'OFFBOARD_CLIENT_ID=offboard-sim',
      'OFFBOARD_CLIENT_SECRET=offboard-sim-secret',
      'OFFBOARD_GRAPH_URL=https://127.0.0.1:',
      'OFFBOARD_DEFENDER_URL=https://127.0.0.1:',
      'OFFBOARD_AUTHORITY_HOST=https://127.0.0.1:',
      'NODE_EXTRA_CA_CERTS=',
    ])
      expect(output).toContain(`export ${name}`)
    expect(output).toContain('demo tenant, 20 devices, seed 3')
    expect(output).toContain(
      'OFFBOARD_AUTH=deviceCode: admin@offboard-sim.example (Cloud Device Administrator)',
    )
  })

  it('serves a snapshot folder as it is', async () => {
    const snap = join(dir, 'snap')
    await writeDemoSnapshot(snap, { devices: 15, seed: 9, jsonl: true })
    const { output } = await simulate(['--snapshot', snap], async (sim) => {
      const token = await getToken(sim, GRAPH_SCOPE)
      const res = await call(`${sim.graphBaseUrl}/devices`, token)
      expect(res.body.value).toEqual(generateDemoTenant({ devices: 15, seed: 9 }).devices)
    })
    expect(output).toContain(`snapshot ${snap}`)
    expect(output).not.toContain('NODE_EXTRA_CA_CERTS')
    // Without HTTPS @azure/identity refuses the authority, so no user sign-in is offered.
    expect(output).not.toContain('OFFBOARD_AUTH=deviceCode')
  })

  it('rejects bad option values with a message naming the option', async () => {
    await expect(simulate(['--rate-429', '1.5'])).rejects.toThrow(
      /--rate-429 is a share of requests between 0 and 1/,
    )
    await expect(simulate(['--latency', '-5'])).rejects.toBeInstanceOf(CommanderError)
    await expect(simulate(['--port', '70000'])).rejects.toThrow(/--port must be between 0 and 65,535/)
    await expect(simulate(['--devices', '5', '--snapshot', dir])).rejects.toThrow(/cannot be used with/)
  })

  it('documents examples in --help', () => {
    let help = ''
    const program = new Command()
    registerSimulate(program)
    const cmd = program.commands[0]!
    cmd.configureOutput({
      writeOut: (text) => {
        help += text
      },
    })
    cmd.outputHelp()
    expect(help).toContain('Examples:')
    expect(help).toContain('offboard simulate --rate-429 0.1')
    expect(help).toContain('--nextlink-loop')
  })
})

describe('loadSimulatorData', () => {
  it('returns the demo tenant for { devices, seed } and a snapshot folder record for record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'offboard-sim-load-'))
    try {
      await writeDemoSnapshot(dir, { devices: 12, seed: 4 })
      const fromFiles = await loadSimulatorData({ snapshotDir: dir })
      const fromDemo = await loadSimulatorData({ devices: 12, seed: 4 })
      expect(fromFiles).toEqual(fromDemo)
      await expect(loadSimulatorData({ snapshotDir: join(dir, 'missing') })).rejects.toThrow(/holds none of/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
