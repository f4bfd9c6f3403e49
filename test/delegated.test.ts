/**
 * @module Disabling non-Windows Entra objects end to end (reference §0.6): the built CLI signs in with
 * @azure/identity's DeviceCodeCredential (OFFBOARD_AUTH=deviceCode) against the simulator over HTTPS, and `offboard
 * act` disables iOS, macOS and Linux objects that an app-only sign-in cannot touch.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ACTOR, entraObjectId, seedTenant, simulatorData } from '../src/actions/test-support.js'
import { type Simulator, type SimulatorUser, startSimulator } from '../src/simulator/index.js'
import { openStore } from '../src/store/store.js'

const work = mkdtempSync(join(tmpdir(), 'offboard-delegated-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const CDA: SimulatorUser = { upn: 'cda@contoso.com', directoryRoles: ['Cloud Device Administrator'] }
const HELPDESK: SimulatorUser = { upn: 'helpdesk@contoso.com', directoryRoles: [] }
/** Device 1 is Windows; 2–4 are the objects an app-only sign-in cannot disable. */
const PLATFORMS: Record<number, Record<string, unknown>> = {
  2: { operatingSystem: 'iOS' },
  3: { operatingSystem: 'MacMDM' },
  4: { operatingSystem: 'Linux' },
}
const NON_WINDOWS = [2, 3, 4].map(entraObjectId)

interface StepJson {
  target: string
  state: string
  note: string | null
}

let dirs = 0
/**
 * A simulator with the four devices, and a fresh data folder whose store holds suggestions to disable all four (the
 * fixtures' tenant is the simulator data's tenant).
 */
async function setUp(users: SimulatorUser[]): Promise<{ sim: Simulator; dataDir: string }> {
  const dataDir = join(work, `data-${++dirs}`)
  const store = await openStore({ env: { OFFBOARD_DATA_DIR: dataDir, DATABASE_URL: '' } })
  try {
    await seedTenant(store, [1, 2, 3, 4])
  } finally {
    await store.close()
  }
  const sim = await startSimulator({ data: simulatorData(4, PLATFORMS), https: true, users })
  return { sim, dataDir }
}

/** Runs the built CLI signed in as the configured user (device code) or as the simulator's app (client secret). */
async function offboard(sim: Simulator, dataDir: string, auth: 'deviceCode' | 'secret', args: string[]) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('OFFBOARD_') && k !== 'DATABASE_URL'),
  )
  const env = {
    ...inherited,
    CI: '1',
    OFFBOARD_DATA_DIR: dataDir,
    DATABASE_URL: '',
    NODE_EXTRA_CA_CERTS: sim.caPath!,
    OFFBOARD_USER: ACTOR,
    OFFBOARD_TENANT_ID: sim.tenantId,
    OFFBOARD_AUTH: auth,
    OFFBOARD_GRAPH_URL: sim.graphBaseUrl,
    OFFBOARD_DEFENDER_URL: sim.defenderBaseUrl,
    OFFBOARD_AUTHORITY_HOST: sim.authorityHost,
    ...(auth === 'secret'
      ? { OFFBOARD_CLIENT_ID: 'offboard-sim', OFFBOARD_CLIENT_SECRET: 'offboard-sim-secret' }
      : {}),
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

interface DoctorJson {
  signIn: { kind: string; user: string | null }
  results: { feature: string; ok: boolean | null; detail: string; fix: string | null }[]
}
const doctorCheck = (stdout: string, feature: string) =>
  (JSON.parse(stdout) as DoctorJson).results.find((r) => r.feature === feature)

const stepsOf = (stdout: string): StepJson[] => (JSON.parse(stdout) as { steps: StepJson[] }).steps
const enabledOf = (sim: Simulator) =>
  new Map(
    sim
      .data()
      .devices.map((d) => d as { id: string; accountEnabled: boolean })
      .map((d) => [d.id, d.accountEnabled]),
  )

describe('offboard act with a delegated sign-in', { timeout: 120_000 }, () => {
  it('a Cloud Device Administrator signed in by device code disables iOS, macOS and Linux objects', async () => {
    const { sim, dataDir } = await setUp([CDA])
    try {
      const dry = await offboard(sim, dataDir, 'deviceCode', ['act', '--all', '--format', 'json'])
      expect(dry.code, dry.stderr).toBe(0)
      // The prompt goes to stderr (stdout stays JSON); the simulator approves it as its user.
      expect(dry.stderr).toContain('https://microsoft.com/devicelogin')
      expect(dry.stderr).toContain(CDA.upn)
      expect(stepsOf(dry.stdout).map((s) => s.state)).toEqual([
        'wouldRun',
        'wouldRun',
        'wouldRun',
        'wouldRun',
      ])
      expect(sim.calls()).toEqual([])

      const act = await offboard(sim, dataDir, 'deviceCode', [
        'act',
        '--all',
        '--confirm',
        '--format',
        'json',
      ])
      expect(act.code, act.stderr).toBe(0)
      expect(stepsOf(act.stdout).map((s) => s.state)).toEqual(['done', 'done', 'done', 'done'])
      const enabled = enabledOf(sim)
      for (const id of [entraObjectId(1), ...NON_WINDOWS]) expect(enabled.get(id), id).toBe(false)
      // Every PATCH was made with the user's token: @azure/identity's default public client, not the app.
      const patches = sim.calls().filter((c) => c.method === 'PATCH')
      expect(patches).toHaveLength(4)
      expect(new Set(patches.map((c) => c.clientId))).toEqual(
        new Set(['04b07795-8ddb-461a-bbee-02f9e1bf7b46']),
      )

      // Undo, signed in the same way, re-enables them all, non-Windows included.
      const actId = (JSON.parse(act.stdout) as { actId: string }).actId
      const undo = await offboard(sim, dataDir, 'deviceCode', ['undo', actId, '--format', 'json'])
      expect(undo.code, undo.stderr).toBe(0)
      expect((JSON.parse(undo.stdout) as { state: string }[]).map((u) => u.state)).toEqual([
        'undone',
        'undone',
        'undone',
        'undone',
      ])
      const after = enabledOf(sim)
      for (const id of [entraObjectId(1), ...NON_WINDOWS]) expect(after.get(id), id).toBe(true)
    } finally {
      await sim.close()
    }
  })

  it('signed in as the app, the dry run warns and the act fails on non-Windows objects, saying how to sign in', async () => {
    const { sim, dataDir } = await setUp([CDA])
    try {
      const dry = await offboard(sim, dataDir, 'secret', ['act', '--all', '--format', 'json'])
      expect(dry.code, dry.stderr).toBe(0)
      const planned = stepsOf(dry.stdout)
      expect(planned.map((s) => s.state)).toEqual(['wouldRun', 'wouldFail', 'wouldFail', 'wouldFail'])
      expect(planned[1]!.note).toMatch(/app-only sign-in would be refused/)

      const act = await offboard(sim, dataDir, 'secret', ['act', '--all', '--confirm', '--format', 'json'])
      expect(act.code).toBe(1)
      const steps = stepsOf(act.stdout)
      expect(steps.map((s) => s.state)).toEqual(['done', 'failed', 'failed', 'failed'])
      for (const s of steps.slice(1)) {
        expect(s.note).toMatch(/cannot be disabled with app-only permissions/)
        expect(s.note).toContain('Cloud Device Administrator or Intune Administrator')
        expect(s.note).toContain('OFFBOARD_AUTH=deviceCode')
      }
      const enabled = enabledOf(sim)
      for (const id of NON_WINDOWS) expect(enabled.get(id), id).toBe(true)
    } finally {
      await sim.close()
    }
  })

  it('a signed-in user without a device role is refused on every object, and told which role to get', async () => {
    const { sim, dataDir } = await setUp([HELPDESK])
    try {
      const act = await offboard(sim, dataDir, 'deviceCode', [
        'act',
        '--all',
        '--confirm',
        '--format',
        'table',
      ])
      expect(act.code, act.stderr).toBe(1)
      expect(act.stdout).toContain('Failed:')
      expect(act.stdout).toContain('the signed-in user may not enable or disable device objects')
      expect(act.stdout).toContain('Cloud Device Administrator or Intune Administrator')
      expect(act.stdout).not.toContain('app-only')
      expect([...enabledOf(sim).values()].every(Boolean)).toBe(true)

      // doctor sees it before any act: reads work, disabling needs a role.
      const doctor = await offboard(sim, dataDir, 'deviceCode', ['doctor', '--format', 'json'])
      expect(doctor.code, doctor.stderr).toBe(0)
      expect(doctorCheck(doctor.stdout, 'Disable Entra devices (agent action)')).toMatchObject({
        ok: false,
        detail: `${HELPDESK.upn} has neither the Cloud Device Administrator nor the Intune Administrator role`,
        fix: expect.stringContaining(
          'Assign the signed-in user the Cloud Device Administrator or Intune Administrator role',
        ),
      })
    } finally {
      await sim.close()
    }
  })
})
