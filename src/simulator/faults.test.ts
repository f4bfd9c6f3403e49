/** @module Injected faults over real sockets: each option, repeatable by seed, never on the token endpoint. */
import { describe, expect, it } from 'vitest'
import { startSimulator } from './server.js'
import { call, DEFENDER_SCOPE, GRAPH_SCOPE, getToken, guid, smallTenant } from './test-support.js'
import type { FaultOptions, Simulator } from './types.js'

async function withSim<T>(
  faults: FaultOptions,
  run: (sim: Simulator, token: string) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator({ data: smallTenant(10), faults })
  try {
    return await run(sim, await getToken(sim, GRAPH_SCOPE))
  } finally {
    await sim.close()
  }
}

/** Outcome of one GET: its status, or how the connection failed. */
async function outcome(url: string, token: string): Promise<string> {
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    try {
      await res.json()
      return String(res.status)
    } catch {
      return `${res.status}-truncated`
    }
  } catch {
    return 'reset'
  }
}

async function outcomes(sim: Simulator, token: string, n: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(await outcome(`${sim.graphBaseUrl}/devices?$top=1`, token))
  return out
}

describe('fault injection', () => {
  it('answers a seeded share of requests 429 with a small Retry-After, the same way for the same seed', async () => {
    const faults = { rate429: 0.4, seed: 7 }
    const first = await withSim(faults, (sim, t) => outcomes(sim, t, 30))
    const second = await withSim(faults, (sim, t) => outcomes(sim, t, 30))
    expect(first).toEqual(second)
    expect(first).toContain('429')
    expect(first).toContain('200')
    const other = await withSim({ rate429: 0.4, seed: 8 }, (sim, t) => outcomes(sim, t, 30))
    expect(other).not.toEqual(first)
    await withSim({ rate429: 1 }, async (sim, t) => {
      const res = await call(`${sim.graphBaseUrl}/devices`, t)
      expect(res.status).toBe(429)
      expect(res.headers.get('retry-after')).toBe('0.05')
      expect(res.body.error.code).toBe('TooManyRequests')
    })
  })

  it('answers 503 (or 500/504) with an API error body', async () => {
    await withSim({ rate5xx: 1, seed: 3 }, async (sim, t) => {
      const statuses = new Set<number>()
      for (let i = 0; i < 20; i++) {
        const res = await call(`${sim.graphBaseUrl}/devices`, t)
        statuses.add(res.status)
        expect(typeof res.body.error.code).toBe('string')
      }
      expect([...statuses].every((s) => [500, 503, 504].includes(s))).toBe(true)
      expect(statuses.has(503)).toBe(true)
      const defender = await call(`${sim.defenderBaseUrl}/api/machines`, await getToken(sim, DEFENDER_SCOPE))
      expect(defender.body.error.target).toBeTruthy()
    })
  })

  it('adds latency', async () => {
    await withSim({ latencyMs: 60 }, async (sim, t) => {
      const start = performance.now()
      await call(`${sim.graphBaseUrl}/devices`, t)
      expect(performance.now() - start).toBeGreaterThanOrEqual(55)
    })
  })

  it('resets connections without a response, and records a reset mutation with status 0', async () => {
    await withSim({ resetRate: 1 }, async (sim, t) => {
      expect(await outcome(`${sim.graphBaseUrl}/devices`, t)).toBe('reset')
      await expect(
        call(`${sim.graphBaseUrl}/devices/${guid(1, 'e0000000')}`, t, {
          method: 'PATCH',
          body: { accountEnabled: false },
        }),
      ).rejects.toThrow()
      expect(sim.requests().map((r) => r.status)).toEqual([200, 0, 0])
      expect(sim.calls()).toMatchObject([{ method: 'PATCH', status: 0, clientId: 'offboard-sim' }])
      // The reset request never reached the API: nothing changed.
      expect((sim.data().devices[0] as { accountEnabled: boolean }).accountEnabled).toBe(true)
    })
  })

  it('sends headers and part of the body, then cuts the connection', async () => {
    await withSim({ truncateRate: 1 }, async (sim, t) => {
      const res = await fetch(`${sim.graphBaseUrl}/devices`, { headers: { authorization: `Bearer ${t}` } })
      expect(res.status).toBe(200)
      expect(Number(res.headers.get('content-length'))).toBeGreaterThan(100)
      await expect(res.text()).rejects.toThrow()
    })
  })

  it('mixes resets and truncations repeatably by seed', async () => {
    const faults = { resetRate: 0.3, truncateRate: 0.3, seed: 11 }
    const first = await withSim(faults, (sim, t) => outcomes(sim, t, 20))
    const second = await withSim(faults, (sim, t) => outcomes(sim, t, 20))
    expect(first).toEqual(second)
    expect(first).toContain('reset')
    expect(first).toContain('200-truncated')
    expect(first).toContain('200')
  })

  it("points a list's second page back at the first page", async () => {
    await withSim({ nextLinkLoop: true }, async (sim, t) => {
      const first = `${sim.graphBaseUrl}/devices?$top=3`
      const page1 = await call(first, t)
      const page2 = await call(page1.body['@odata.nextLink'], t)
      expect(page2.body['@odata.nextLink']).toBe(first)
      const d = await getToken(sim, DEFENDER_SCOPE)
      const m1 = await call(`${sim.defenderBaseUrl}/api/machines?$top=4`, d)
      const m2 = await call(m1.body['@odata.nextLink'], d)
      expect(m2.body['@odata.nextLink']).toBe(`${sim.url}/api/machines?$top=4`)
    })
  })

  it('never faults the token endpoint, and setFaults switches faults at run time', async () => {
    await withSim({ rate429: 1, resetRate: 1, truncateRate: 1, rate5xx: 1 }, async (sim) => {
      const t = await getToken(sim, GRAPH_SCOPE)
      expect(await outcome(`${sim.graphBaseUrl}/devices`, t)).toBe('reset')
      sim.setFaults({})
      expect((await call(`${sim.graphBaseUrl}/devices`, t)).status).toBe(200)
    })
  })
})
