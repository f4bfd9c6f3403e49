/** @module The Entra delete handler over HTTP against the simulator: every refusal, a delete, and an object already gone. */
import { afterEach, describe, expect, it } from 'vitest'
import { RateLimiter } from '../lib/rate-limiter.js'
import { type Simulator, startSimulator } from '../simulator/index.js'
import { entraDevice, guid } from '../simulator/test-support.js'
import { entraDeleteHandler, hasZtdid } from './entra-delete.js'
import { ENTRA_WRITE_LIMITS } from './entra-disable.js'
import type { ActHistory, HandlerContext, StepTarget } from './handler.js'
import { entraObjectId, graphOf, TENANT } from './test-support.js'

const NOW = Date.parse('2026-11-20T12:00:00Z')
const DAY = 86_400_000

/** offboard's records as the executor would read them from the store: here, fixed answers per object id. */
function history(disabled: Record<string, Date>, exported: Record<string, Date> = {}): ActHistory {
  return {
    disabledAt: async (id) => disabled[id] ?? null,
    keysExportedAt: async (id) => exported[id] ?? null,
  }
}

const target = (n: number): StepTarget => ({ stepId: n, target: entraObjectId(n), targetName: `PC-${n}` })

describe('entra delete handler', () => {
  const sims: Simulator[] = []
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close()
  })

  async function sim(devices: Record<string, unknown>[], keys: object[] = []): Promise<Simulator> {
    const s = await startSimulator({
      data: {
        managedDevices: [],
        devices,
        windowsAutopilotDeviceIdentities: [],
        machines: [],
        bitlockerRecoveryKeys: keys,
        meta: { tenantId: TENANT },
      },
    })
    sims.push(s)
    return s
  }

  async function verifyOne(s: Simulator, ctx: Omit<HandlerContext, 'graph'>, n: number) {
    const seen = await entraDeleteHandler().verify({ graph: graphOf(s), now: () => NOW, ...ctx }, [target(n)])
    return seen.get(n)
  }

  const longAgo = new Date(NOW - 45 * DAY)
  const exported = new Date(NOW - DAY)

  it('refuses an enabled object: it must be disabled first', async () => {
    const s = await sim([entraDevice(1)])
    const seen = await verifyOne(s, { history: history({}) }, 1)
    expect(seen).toMatchObject({ kind: 'error' })
    expect(seen?.kind === 'error' && seen.reason).toMatch(/still enabled.*offboard act/)
  })

  it('refuses an Autopilot-registered object, whatever the casing of ZTDID', async () => {
    const s = await sim([entraDevice(1, { accountEnabled: false, physicalIds: ['[ZTDId]:abc'] })])
    const id = entraObjectId(1)
    const seen = await verifyOne(
      s,
      { history: history({ [id]: longAgo }, { [id]: exported }), keysExportedAcknowledged: true },
      1,
    )
    expect(seen?.kind === 'error' && seen.reason).toMatch(
      /Windows Autopilot.*Deregister the device in Autopilot/,
    )
    expect(hasZtdid(['[OrderID]:Sales', '[ztdid]:x'])).toBe(true)
    expect(hasZtdid(['[OrderID]:Sales'])).toBe(false)
  })

  it('refuses without history, and when offboard did not disable the object itself', async () => {
    const s = await sim([entraDevice(1, { accountEnabled: false })])
    const none = await verifyOne(s, {}, 1)
    expect(none?.kind === 'error' && none.reason).toContain('act history is not available')
    const notOurs = await verifyOne(s, { history: history({}), keysExportedAcknowledged: true }, 1)
    expect(notOurs?.kind === 'error' && notOurs.reason).toMatch(
      /did not disable .* itself.*Disabling it through offboard act starts the clock/,
    )
  })

  it('refuses inside the grace period and names the day it becomes eligible', async () => {
    const s = await sim([entraDevice(1, { accountEnabled: false })])
    const id = entraObjectId(1)
    const seen = await verifyOne(
      s,
      { history: history({ [id]: new Date('2026-11-10T08:00:00Z') }), keysExportedAcknowledged: true },
      1,
    )
    expect(seen?.kind === 'error' && seen.reason).toContain(
      'disabled by offboard on 2026-11-10; the 30-day grace period ends on 2026-12-10',
    )
    const shorter = await entraDeleteHandler({ graceDays: 5 }).verify(
      {
        graph: graphOf(s),
        now: () => NOW,
        history: history({ [id]: new Date('2026-11-10T08:00:00Z') }),
        keysExportedAcknowledged: true,
      },
      [target(1)],
    )
    expect(shorter.get(1)).toMatchObject({ kind: 'present', alreadyApplied: false })
  })

  it('refuses until the keys were exported or the export acknowledged', async () => {
    const s = await sim([entraDevice(1, { accountEnabled: false })])
    const id = entraObjectId(1)
    const seen = await verifyOne(s, { history: history({ [id]: longAgo }) }, 1)
    expect(seen?.kind === 'error' && seen.reason).toMatch(
      /BitLocker recovery keys .* were not exported.*offboard keys export -o FILE.*--keys-exported/,
    )
    const viaExport = await verifyOne(s, { history: history({ [id]: longAgo }, { [id]: exported }) }, 1)
    expect(viaExport).toMatchObject({ kind: 'present', alreadyApplied: false })
    const viaFlag = await verifyOne(
      s,
      { history: history({ [id]: longAgo }), keysExportedAcknowledged: true },
      1,
    )
    expect(viaFlag).toMatchObject({
      kind: 'present',
      state: { accountEnabled: false, autopilotRegistered: false },
    })
  })

  it('deletes an eligible object with exactly one DELETE, and its recovery keys go with it', async () => {
    const key = { id: 'k1', deviceId: guid(1, 'd0000000'), volumeType: 'operatingSystemVolume', key: '1-2-3' }
    const s = await sim([entraDevice(1, { accountEnabled: false }), entraDevice(2)], [key])
    const id = entraObjectId(1)
    const handler = entraDeleteHandler({ writeLimiter: new RateLimiter({ windows: ENTRA_WRITE_LIMITS }) })
    const ctx = { graph: graphOf(s), now: () => NOW, history: history({ [id]: longAgo }, { [id]: exported }) }
    const seen = await handler.verify(ctx, [target(1)])
    const obs = seen.get(1)
    if (obs?.kind !== 'present') throw new Error(`expected present, got ${JSON.stringify(obs)}`)
    const out = await handler.execute(ctx, [{ ...target(1), before: obs.state }])
    expect(out.get(1)).toEqual({ kind: 'done', after: { deleted: true } })
    const deletes = s.calls().filter((c) => c.method === 'DELETE')
    expect(deletes).toHaveLength(1)
    expect(deletes[0]).toMatchObject({ path: `/v1.0/devices/${id}`, status: 204 })
    expect(s.data().devices.map((d) => (d as { id: string }).id)).toEqual([entraObjectId(2)])
    expect(s.data().bitlockerRecoveryKeys).toBeUndefined()
    expect(handler.undo).toBeUndefined()
    // Not a warning (that would make the dry run say it fails): what a delete that runs does.
    expect(handler.describe(target(1)).warning).toBeUndefined()
    expect(handler.describe(target(1)).change).toContain(
      'cannot be undone; BitLocker keys stored on it are deleted',
    )
  })

  it('an object already gone reads as gone, and a DELETE of it answers gone', async () => {
    const s = await sim([])
    const seen = await verifyOne(s, { history: history({}) }, 1)
    expect(seen).toEqual({ kind: 'gone' })
    const out = await entraDeleteHandler().execute({ graph: graphOf(s) }, [{ ...target(1), before: {} }])
    expect(out.get(1)).toEqual({ kind: 'gone' })
  })

  it('a 403 on the DELETE names Device.ReadWrite.All and the delegated roles', async () => {
    const s = await startSimulator({
      data: {
        managedDevices: [],
        devices: [entraDevice(1, { accountEnabled: false })],
        windowsAutopilotDeviceIdentities: [],
        machines: [],
      },
      apps: [{ clientId: 'offboard-sim', clientSecret: 'offboard-sim-secret', roles: ['Device.Read.All'] }],
    })
    sims.push(s)
    const out = await entraDeleteHandler().execute({ graph: graphOf(s) }, [{ ...target(1), before: {} }])
    const failed = out.get(1)
    expect(failed).toMatchObject({ kind: 'failed', status: 403 })
    expect(failed?.kind === 'failed' && failed.reason).toMatch(
      /Device\.ReadWrite\.All.*Intune Administrator, Windows 365 Administrator, Cloud Device Administrator/,
    )
  })
})
