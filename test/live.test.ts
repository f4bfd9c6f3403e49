/**
 * @module The live path end to end, over real sockets against the simulator: the product's sources, HTTP client and
 * sign-in read a tenant exactly as they would read Microsoft's APIs — paging, faults, permissions and all.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyze } from '../src/analyze.js'
import { writeSnapshot } from '../src/cli/commands/snapshot.js'
import { clientsFor } from '../src/cli/tenant.js'
import { Report } from '../src/domain/report.js'
import { OffboardError, SourceError } from '../src/lib/errors.js'
import { LoopbackClientCredentials } from '../src/lib/loopback-credentials.js'
import {
  loadSimulatorData,
  type Simulator,
  type SimulatorApp,
  type SimulatorData,
  startSimulator,
} from '../src/simulator/index.js'
import { readSnapshot } from '../src/snapshot/read-snapshot.js'
import { type LiveClients, readLive } from '../src/sources/read-live.js'

const NOW = Date.parse('2026-11-01T00:00:00Z')
const ALL_READ = [
  'DeviceManagementManagedDevices.Read.All',
  'Device.Read.All',
  'DeviceManagementServiceConfig.Read.All',
  'Machine.Read.All',
  'TeamworkDevice.Read.All',
]
const work = mkdtempSync(join(tmpdir(), 'offboard-live-'))
let data: SimulatorData

beforeAll(async () => {
  data = await loadSimulatorData({ devices: 400, seed: 11 })
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** Fast retries: the faults below are many, the backoff need not be long. */
const FAST = { baseBackoffMs: 5, maxAttempts: 8 }

function clientsOf(
  sim: Simulator,
  app: SimulatorApp = { clientId: 'offboard-sim', clientSecret: 'offboard-sim-secret', roles: ALL_READ },
): LiveClients {
  const tokens = new LoopbackClientCredentials(
    sim.authorityHost,
    sim.tenantId,
    app.clientId,
    app.clientSecret!,
  )
  return clientsFor({ graph: sim.graphBaseUrl, defender: sim.defenderBaseUrl }, tokens, FAST)
}

async function withSim<T>(
  opts: Parameters<typeof startSimulator>[0],
  fn: (sim: Simulator) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator(opts)
  try {
    return await fn(sim)
  } finally {
    await sim.close()
  }
}

/**
 * A read stopped while Intune's pages of 20 were still coming: a page already asked for may still be answered, but
 * nothing is asked for after that; Intune was not read to its end, and Autopilot, read after it, never began.
 */
async function expectStoppedDuringIntune(sim: Simulator): Promise<void> {
  await new Promise((r) => setTimeout(r, 50))
  const asked = sim.requests().length
  await new Promise((r) => setTimeout(r, 100))
  expect(sim.requests().length).toBe(asked)
  expect(pagesOf(sim, '/v1.0/deviceManagement/managedDevices')).toBeLessThan(
    Math.ceil(data.managedDevices.length / 20),
  )
  expect(pagesOf(sim, '/v1.0/deviceManagement/windowsAutopilotDeviceIdentities')).toBe(0)
}

/** The pages of one list the simulator was asked for. */
const pagesOf = (sim: Simulator, prefix: string) =>
  sim.requests().filter((r) => r.path.startsWith(prefix)).length

/** The suggestions of a report, for comparing runs (ids and plans, not timing). */
const suggestionsOf = (r: Report) => r.suggestions

describe('reading a live tenant', () => {
  it('reads every record of every source over HTTP and gives the same report as the snapshot of the same data', async () => {
    const live = await withSim({ data }, (sim) => readLive(clientsOf(sim), { tenantId: sim.tenantId }))
    for (const s of ['intune', 'entra', 'autopilot', 'defender'] as const)
      expect(live[s].status, s).toBe('ok')
    expect(live.intune.records).toHaveLength(data.managedDevices.length)
    expect(live.entra.records).toHaveLength(data.devices.length)
    expect(live.autopilot.records).toHaveLength(data.windowsAutopilotDeviceIdentities.length)
    expect(live.defender.records).toHaveLength(data.machines.length)
    expect(live.teamsSerials?.size ?? 0).toBeGreaterThan(0)

    const dir = join(work, 'same-data')
    await withSim({ data }, (sim) =>
      writeSnapshot(clientsOf(sim), dir, {
        tenantId: sim.tenantId,
        jsonl: false,
        disabled: [],
        progress: false,
      }),
    )
    const fromFiles = await readSnapshot(dir)
    expect(suggestionsOf(analyze(fromFiles, { now: NOW }))).toEqual(
      suggestionsOf(analyze(live, { now: NOW })),
    )
  })

  it('pages with small server-driven pages and still reads each record once', async () => {
    // Intune and Autopilot pages are capped by the server (reference §1.3); Entra honours $top up to 999.
    const sim = await startSimulator({
      data,
      pageSize: { managedDevices: 7, windowsAutopilotDeviceIdentities: 5 },
    })
    try {
      const live = await readLive(clientsOf(sim), { tenantId: sim.tenantId })
      const ids = live.intune.records.map((r) => r.id)
      expect(new Set(ids).size).toBe(data.managedDevices.length)
      expect(live.autopilot.records).toHaveLength(data.windowsAutopilotDeviceIdentities.length)
      const pages = sim
        .requests()
        .filter((r) => r.path.startsWith('/v1.0/deviceManagement/managedDevices')).length
      expect(pages).toBe(Math.ceil(data.managedDevices.length / 7))
    } finally {
      await sim.close()
    }
  })

  it('reads Intune, the Entra directory and Defender side by side, and Autopilot after Intune (one service)', async () => {
    const pageSize = { managedDevices: 7, devices: 25, windowsAutopilotDeviceIdentities: 5 }
    await withSim({ data, pageSize, faults: { latencyMs: 2 } }, async (sim) => {
      const live = await readLive(clientsOf(sim), { tenantId: sim.tenantId })
      expect(live.defender.records).toHaveLength(data.machines.length)
      expect(live.entra.records).toHaveLength(data.devices.length)
      const paths = sim.requests().map((r) => r.path)
      const first = (prefix: string) => paths.findIndex((p) => p.startsWith(prefix))
      const last = (prefix: string) => paths.findLastIndex((p) => p.startsWith(prefix))
      const intuneLast = last('/v1.0/deviceManagement/managedDevices')
      // Entra's and Defender's pages came while Intune's were still being read…
      expect(first('/api/machines')).toBeGreaterThanOrEqual(0)
      expect(first('/api/machines')).toBeLessThan(intuneLast)
      expect(first('/v1.0/devices')).toBeGreaterThanOrEqual(0)
      expect(first('/v1.0/devices')).toBeLessThan(intuneLast)
      // …and Autopilot's only after Intune's last: the two share the Intune service's limits.
      expect(first('/v1.0/deviceManagement/windowsAutopilotDeviceIdentities')).toBeGreaterThan(intuneLast)
    })
  })

  it.each([
    ['429 with Retry-After', { rate429: 0.3 }],
    ['5xx', { rate5xx: 0.3 }],
    ['connection resets', { resetRate: 0.2 }],
    ['truncated bodies', { truncateRate: 0.2 }],
    ['latency', { latencyMs: 2 }],
  ])('survives %s and reads the same records', async (_name, faults) => {
    const clean = await withSim({ data }, (sim) => readLive(clientsOf(sim), { tenantId: sim.tenantId }))
    const faulty = await withSim({ data, faults: { ...faults, seed: 3 } }, async (sim) => {
      const result = await readLive(clientsOf(sim), { tenantId: sim.tenantId })
      if ('rate429' in faults || 'rate5xx' in faults)
        expect(sim.requests().some((r) => r.status >= 429)).toBe(true)
      return result
    })
    for (const s of ['intune', 'entra', 'autopilot', 'defender'] as const) {
      expect(faulty[s].status, s).toBe('ok')
      expect(faulty[s].records, s).toEqual(clean[s].records)
    }
  })

  it('refuses a nextLink loop: the source is reported as failed, never read forever', async () => {
    const live = await withSim(
      { data, pageSize: { managedDevices: 50 }, faults: { nextLinkLoop: true } },
      (sim) => readLive(clientsOf(sim), { tenantId: sim.tenantId }),
    )
    expect(live.intune.status).toBe('error')
    expect(live.intune.error).toMatch(/points back at an earlier page/)
  })

  it('reports a missing permission as a source error naming it, and never flags a device because of it', async () => {
    const app = {
      clientId: 'no-defender',
      clientSecret: 's3cret',
      roles: ALL_READ.filter((r) => r !== 'Machine.Read.All'),
    }
    const live = await withSim({ data, apps: [app] }, (sim) =>
      readLive(clientsOf(sim, app), { tenantId: sim.tenantId }),
    )
    expect(live.defender.status).toBe('error')
    expect(live.defender.error).toContain('Machine.Read.All')
    const report = analyze(live, { now: NOW })
    expect(report.sources.defender.status).toBe('error')
    // Rules that weigh Defender activity cannot flag while Defender failed: only unknowns, no stale devices.
    expect(report.summary.counts.byCategory.stale ?? 0).toBe(0)
    expect(report.summary.counts.byCategory.defenderOrphan ?? 0).toBe(0)
    expect(report.undetermined.some((u) => u.reasons.some((r) => r.reason === 'source-unavailable'))).toBe(
      true,
    )
  })

  it('stops at a wrong secret with one sign-in error', async () => {
    await withSim({ data }, async (sim) => {
      const tokens = new LoopbackClientCredentials(sim.authorityHost, sim.tenantId, 'offboard-sim', 'wrong')
      const clients = clientsFor({ graph: sim.graphBaseUrl, defender: sim.defenderBaseUrl }, tokens, FAST)
      await expect(readLive(clients, { tenantId: sim.tenantId })).rejects.toThrow(
        /sign-in to the simulator failed/,
      )
    })
  })

  it('stops when its signal aborts: the reason is thrown, not kept as a source error, and no page is asked for after', async () => {
    await withSim({ data, pageSize: { managedDevices: 20 } }, async (sim) => {
      const stop = new AbortController()
      // An OffboardError, as a refused start's is: it must not pass for the source's own failure.
      const refused = new OffboardError('a run is already in progress for this tenant.')
      const failures: string[] = []
      const reading = readLive(clientsOf(sim), {
        tenantId: sim.tenantId,
        signal: stop.signal,
        // After Intune's second page: the read is mid-source, with pages left to fetch.
        onProgress: (e) => {
          if (e.error) failures.push(e.source)
          if (e.source === 'intune' && e.pages === 2) stop.abort(refused)
        },
      })
      await expect(reading).rejects.toBe(refused)
      // Stopped, not failed: no source is reported as one that could not be read.
      expect(failures).toEqual([])
      await expectStoppedDuringIntune(sim)
    })
  })

  it('stops the other services when one read throws, and throws its error', async () => {
    await withSim({ data, pageSize: { managedDevices: 20 } }, async (sim) => {
      // Not an API error (those are kept as the source's failure and the others read on): a bug, say, once the
      // directory's one page (Entra honours $top=999) is in, while Intune's pages of 20 are still coming.
      const bug = new TypeError('a bug while reading the directory')
      const reading = readLive(clientsOf(sim), {
        tenantId: sim.tenantId,
        onProgress: (e) => {
          if (e.source === 'entra' && e.pages === 1) throw bug
        },
      })
      await expect(reading).rejects.toBe(bug)
      await expectStoppedDuringIntune(sim)
    })
  })

  it('gives a clear error, not a complete-looking report, when the service goes away mid-run', async () => {
    const sim = await startSimulator({ data, pageSize: { managedDevices: 20 }, faults: { latencyMs: 5 } })
    const clients = clientsOf(sim)
    const reading = readLive(clients, { tenantId: sim.tenantId })
    await new Promise((r) => setTimeout(r, 30))
    await sim.close()
    const live = await reading.catch((err: unknown) => err)
    if (live instanceof SourceError) {
      expect(live.message).toMatch(/refused|did not answer|reset|sign-in/)
    } else {
      const tenant = live as Awaited<ReturnType<typeof readLive>>
      const failed = (['intune', 'entra', 'autopilot', 'defender'] as const).filter(
        (s) => tenant[s].status === 'error',
      )
      expect(failed.length).toBeGreaterThan(0)
      const report = analyze(tenant, { now: NOW })
      expect(report.summary.warnings.join(' ')).toMatch(/could not be read/)
    }
  })
})

describe('the CLI against the simulator over HTTPS', () => {
  /** Runs the built CLI with the simulator's tenant in the environment, trusting its CA like a real certificate. */
  async function offboardLive(
    sim: Simulator,
    args: string[],
    app = { id: 'offboard-sim', secret: 'offboard-sim-secret' },
  ) {
    const env = {
      ...process.env,
      CI: '1',
      OFFBOARD_DATA_DIR: join(work, 'data'),
      DATABASE_URL: '',
      NODE_EXTRA_CA_CERTS: sim.caPath!,
      OFFBOARD_TENANT_ID: sim.tenantId,
      OFFBOARD_CLIENT_ID: app.id,
      OFFBOARD_CLIENT_SECRET: app.secret,
      OFFBOARD_GRAPH_URL: sim.graphBaseUrl,
      OFFBOARD_DEFENDER_URL: sim.defenderBaseUrl,
      OFFBOARD_AUTHORITY_HOST: sim.authorityHost,
    }
    const child = spawn(process.execPath, [join(import.meta.dirname, '../bin/offboard.js'), ...args], { env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
    })
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    return { code, stdout, stderr }
  }

  it('signs in with @azure/identity (client secret) and runs the whole tenant, trusting the simulator CA', async () => {
    await withSim({ data, https: true }, async (sim) => {
      const { code, stdout, stderr } = await offboardLive(sim, [
        'run',
        '--format',
        'json',
        '--as-of',
        '2026-11-01T00:00:00Z',
      ])
      expect(code, stderr).toBe(0)
      const report = Report.parse(JSON.parse(stdout))
      expect(report.tenantId).toBe(sim.tenantId)
      expect(report.sources.intune).toMatchObject({ status: 'ok', records: data.managedDevices.length })
      expect(report.suggestions.length).toBeGreaterThan(0)
      expect(stderr).not.toContain('offboard-sim-secret')
    })
  })

  it('snapshot exports the tenant, and run --snapshot on it gives the live suggestions', async () => {
    await withSim({ data, https: true }, async (sim) => {
      const dir = join(work, 'cli-snapshot')
      const snap = await offboardLive(sim, ['snapshot', '--out', dir])
      expect(snap.code, snap.stderr).toBe(0)
      const live = await offboardLive(sim, ['run', '--format', 'json', '--as-of', '2026-11-01T00:00:00Z'])
      const fromFiles = await offboardLive(sim, [
        'run',
        '--snapshot',
        dir,
        '--format',
        'json',
        '--as-of',
        '2026-11-01T00:00:00Z',
      ])
      expect(fromFiles.code, fromFiles.stderr).toBe(0)
      expect(Report.parse(JSON.parse(fromFiles.stdout)).suggestions).toEqual(
        Report.parse(JSON.parse(live.stdout)).suggestions,
      )
      // A second export into the same folder is refused rather than mixed with the first.
      expect((await offboardLive(sim, ['snapshot', '--out', dir])).code).toBe(2)
    })
  })

  it('doctor passes every required check with full permissions, and names what a restricted app lacks', async () => {
    const restricted = {
      clientId: 'reader-without-defender',
      clientSecret: 'r3ader',
      roles: ALL_READ.filter((r) => r !== 'Machine.Read.All'),
    }
    const full = {
      clientId: 'offboard-sim',
      clientSecret: 'offboard-sim-secret',
      roles: [...ALL_READ, 'Device.ReadWrite.All', 'Machine.Offboard'],
    }
    await withSim({ data, https: true, apps: [full, restricted] }, async (sim) => {
      const ok = await offboardLive(sim, ['doctor', '--format', 'json'])
      expect(ok.code, ok.stderr).toBe(0)
      const results = JSON.parse(ok.stdout).results as {
        feature: string
        ok: boolean | null
        detail: string
      }[]
      expect(results.find((r) => r.feature === 'Disable Entra devices (agent action)')?.ok).toBe(true)
      expect(results.find((r) => r.feature === 'Delete Intune devices (opt-in)')).toMatchObject({
        ok: false,
        detail: expect.stringContaining('DeviceManagementManagedDevices.ReadWrite.All'),
      })

      const bad = await offboardLive(sim, ['doctor'], {
        id: restricted.clientId,
        secret: restricted.clientSecret,
      })
      expect(bad.code).toBe(1)
      expect(bad.stdout).toMatch(/FAIL\s+Read Defender machines.*403/)
      expect(bad.stdout).toContain('Grant Machine.Read.All')
    })
  })
})
