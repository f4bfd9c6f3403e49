/** @module Defender over the wire: machines paging and filters, offboard rules, MachineAction progress, per-app rate limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator } from './server.js'
import { call, DEFENDER_SCOPE, getToken, guid, listAll, machine, smallTenant } from './test-support.js'
import type { Simulator } from './types.js'

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-11-01T00:00:00Z')) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number): void => {
      now += ms
    },
  }
}

describe('Defender machines and offboarding', () => {
  let sim: Simulator
  let token: string
  const clock = manualClock()
  const data = smallTenant(12)
  data.machines.push(machine(40, { osPlatform: 'macOS' }), machine(41, { osPlatform: 'Linux' }))
  const win = (n: number) => (data.machines[n - 1] as { id: string }).id
  beforeAll(async () => {
    sim = await startSimulator({
      data,
      clock: clock.now,
      machineActionDelayMs: 5 * 60_000,
      pageSize: { machines: 5 },
    })
    token = await getToken(sim, DEFENDER_SCOPE)
  })
  afterAll(() => sim.close())

  it('pages machines with $top/$skip nextLinks and filters them', async () => {
    const first = await call(`${sim.defenderBaseUrl}/api/machines`, token)
    expect(first.body.value).toHaveLength(5)
    expect(first.body['@odata.nextLink']).toBe(`${sim.url}/api/machines?$top=5&$skip=5`)
    const { records, pages } = await listAll(`${sim.defenderBaseUrl}/api/machines?$top=4`, token)
    expect(pages).toBe(4)
    expect(records).toHaveLength(14)
    const byAad = await call(
      `${sim.defenderBaseUrl}/api/machines?$filter=aadDeviceId eq '${guid(2, 'd0000000')}'`,
      token,
    )
    expect(byAad.body.value.map((m: { id: string }) => m.id)).toEqual([win(2)])
    const inactive = await call(
      `${sim.defenderBaseUrl}/api/machines?$filter=healthStatus eq 'Inactive'&$top=100`,
      token,
    )
    expect(inactive.body.value).toHaveLength(4)
    const recent = await call(`${sim.defenderBaseUrl}/api/machines?$filter=lastSeen gt 2026-08-15Z`, token)
    expect(recent.body.value.every((m: { lastSeen: string }) => m.lastSeen > '2026-08-15')).toBe(true)
    const tooMany = await call(`${sim.defenderBaseUrl}/api/machines?$top=10001`, token)
    expect(tooMany.status).toBe(400)
  })

  it('gets a machine by id or computer name, 404 otherwise', async () => {
    expect((await call(`${sim.defenderBaseUrl}/api/machines/${win(3)}`, token)).body.id).toBe(win(3))
    expect((await call(`${sim.defenderBaseUrl}/api/machines/pc-3.contoso.com`, token)).body.id).toBe(win(3))
    const missing = await call(`${sim.defenderBaseUrl}/api/machines/${'0'.repeat(40)}`, token)
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('ResourceNotFound')
  })

  it('requires a JSON body with "Comment" (case-sensitive) to offboard', async () => {
    const url = `${sim.defenderBaseUrl}/api/machines/${win(1)}/offboard`
    const none = await call(url, token, { method: 'POST' })
    expect(none.status).toBe(400)
    expect(none.body.error.code).toBe('InvalidRequestBody')
    const lower = await call(url, token, { method: 'POST', body: { comment: 'x' } })
    expect(lower.status).toBe(400)
    expect(lower.body.error.code).toBe('MissingRequiredParameter')
    expect((await call(url, token, { method: 'POST', body: 'not json' })).body.error.code).toBe(
      'InvalidRequestBody',
    )
  })

  it('refuses to offboard macOS and Linux machines', async () => {
    for (const n of [13, 14]) {
      const res = await call(
        `${sim.defenderBaseUrl}/api/machines/${(data.machines[n - 1] as { id: string }).id}/offboard`,
        token,
        {
          method: 'POST',
          body: { Comment: 'stale' },
        },
      )
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('OsPlatformNotSupported')
    }
  })

  it('creates a Pending Offboard action that succeeds after the delay and marks the machine offboarded', async () => {
    const res = await call(`${sim.defenderBaseUrl}/api/machines/${win(4)}/offboard`, token, {
      method: 'POST',
      body: { Comment: 'Offboarded by offboard (stale 120 days)' },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      type: 'Offboard',
      status: 'Pending',
      machineId: win(4),
      computerDnsName: 'pc-4.contoso.com',
      requestor: 'offboard-sim',
      requestorComment: 'Offboarded by offboard (stale 120 days)',
      creationDateTimeUtc: '2026-11-01T00:00:00.000Z',
    })
    const actionUrl = `${sim.defenderBaseUrl}/api/machineactions/${res.body.id}`
    expect((await call(actionUrl, token)).body.status).toBe('Pending')
    const again = await call(`${sim.defenderBaseUrl}/api/machines/${win(4)}/offboard`, token, {
      method: 'POST',
      body: { Comment: 'again' },
    })
    expect(again.status).toBe(400)
    expect(again.body.error).toMatchObject({
      code: 'BadRequest',
      message: 'Action is already in progress or completed',
    })

    clock.advance(5 * 60_000)
    const done = await call(actionUrl, token)
    expect(done.body).toMatchObject({
      status: 'Succeeded',
      lastUpdateDateTimeUtc: '2026-11-01T00:05:00.000Z',
    })
    const m = await call(`${sim.defenderBaseUrl}/api/machines/${win(4)}`, token)
    expect(m.body).toMatchObject({ onboardingStatus: 'Offboarded', healthStatus: 'Inactive' })
    const listed = await call(
      `${sim.defenderBaseUrl}/api/machineactions?$filter=machineId eq '${win(4)}'`,
      token,
    )
    expect(listed.body.value.map((a: { id: string }) => a.id)).toEqual([res.body.id])
    expect((await call(`${sim.defenderBaseUrl}/api/machineactions/${guid(1)}`, token)).status).toBe(404)
  })

  it('refuses to offboard a machine that is already offboarded', async () => {
    const url = `${sim.defenderBaseUrl}/api/machines/${win(5)}/offboard`
    const data5 = startSimulator({
      data: { ...smallTenant(0), machines: [machine(5, { onboardingStatus: 'Offboarded' })] },
    })
    const other = await data5
    try {
      const t = await getToken(other, DEFENDER_SCOPE)
      const res = await call(url.replace(sim.url, other.url), t, { method: 'POST', body: { Comment: 'x' } })
      expect(res.status).toBe(400)
      expect(res.body.error.message).toBe('Action is already in progress or completed')
    } finally {
      await other.close()
    }
  })
})

describe('Defender rate limits', () => {
  it('answers 429 with Retry-After after 100 calls in a minute, per app, until a slot frees', async () => {
    const clock = manualClock()
    const sim = await startSimulator({
      data: smallTenant(1),
      clock: clock.now,
      apps: [
        { clientId: 'a', clientSecret: 'a', roles: ['Machine.Read.All'] },
        { clientId: 'b', clientSecret: 'b', roles: ['Machine.Read.All'] },
      ],
    })
    try {
      const a = await getToken(sim, DEFENDER_SCOPE, { clientId: 'a', clientSecret: 'a', roles: [] })
      const b = await getToken(sim, DEFENDER_SCOPE, { clientId: 'b', clientSecret: 'b', roles: [] })
      const url = `${sim.defenderBaseUrl}/api/machines`
      for (let i = 0; i < 100; i++) {
        expect((await call(url, a)).status).toBe(200)
        clock.advance(100)
      }
      // The first call was 10 s ago, so its slot frees in 50 s.
      const limited = await call(url, a)
      expect(limited.status).toBe(429)
      expect(limited.body.error.code).toBe('TooManyRequests')
      expect(limited.headers.get('retry-after')).toBe('50')
      expect((await call(url, b)).status).toBe(200)
      clock.advance(50_000)
      expect((await call(url, a)).status).toBe(200)
      expect((await call(url, a)).status).toBe(429)
    } finally {
      await sim.close()
    }
  })

  it('also enforces the hourly limit', async () => {
    const clock = manualClock()
    const sim = await startSimulator({
      data: smallTenant(1),
      clock: clock.now,
      defenderLimits: { perMinute: 5, perHour: 8 },
    })
    try {
      const t = await getToken(sim, DEFENDER_SCOPE)
      const statuses: number[] = []
      for (let i = 0; i < 9; i++) {
        statuses.push((await call(`${sim.defenderBaseUrl}/api/machines`, t)).status)
        clock.advance(20_000)
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429])
      const res = await call(`${sim.defenderBaseUrl}/api/machines`, t)
      // The first of the 8 admitted calls was at t=0; now is t=180 s.
      expect(res.headers.get('retry-after')).toBe(String(3600 - 180))
    } finally {
      await sim.close()
    }
  })
})
