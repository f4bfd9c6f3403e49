/** @module Graph $batch over the wire: envelope limits, per-item status and permissions, dependsOn → 424, inner 429, recording. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator } from './server.js'
import { call, GRAPH_SCOPE, getToken, guid, smallTenant } from './test-support.js'
import type { Simulator } from './types.js'

describe('Graph $batch', () => {
  let sim: Simulator
  let token: string
  let batchUrl: string
  beforeAll(async () => {
    sim = await startSimulator({
      data: smallTenant(30),
      apps: [
        {
          clientId: 'offboard-sim',
          clientSecret: 'offboard-sim-secret',
          roles: ['Device.ReadWrite.All', 'DeviceManagementManagedDevices.Read.All'],
        },
      ],
    })
    token = await getToken(sim, GRAPH_SCOPE)
    batchUrl = `${sim.graphBaseUrl}/$batch`
  })
  afterAll(() => sim.close())

  const disable = (n: number, id = String(n)) => ({
    id,
    method: 'PATCH',
    url: `/devices/${guid(n, 'e0000000')}`,
    headers: { 'Content-Type': 'application/json' },
    body: { accountEnabled: false },
  })

  it('runs each item through the normal handlers and permissions, with its own status', async () => {
    const res = await call(batchUrl, token, {
      method: 'POST',
      body: {
        requests: [
          disable(1),
          { id: '2', method: 'GET', url: `/devices/${guid(1, 'e0000000')}?$select=accountEnabled` },
          { id: '3', method: 'GET', url: `/devices/${guid(99)}` },
          { id: '4', method: 'DELETE', url: `/deviceManagement/managedDevices/${guid(1, 'a0000000')}` },
          { id: '5', method: 'GET', url: 'deviceManagement/managedDevices?$top=2' },
        ],
      },
    })
    expect(res.status).toBe(200)
    const byId = new Map(res.body.responses.map((r: { id: string }) => [r.id, r]))
    expect(byId.get('1')).toMatchObject({ status: 204 })
    expect(byId.get('2')).toMatchObject({ status: 200, body: { accountEnabled: false } })
    expect(byId.get('3')).toMatchObject({
      status: 404,
      body: { error: { code: 'Request_ResourceNotFound' } },
    })
    expect(byId.get('4')).toMatchObject({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied' } },
    })
    const page = byId.get('5') as { body: { value: unknown[]; '@odata.nextLink': string } }
    expect(page.body.value).toHaveLength(2)
    expect(page.body['@odata.nextLink']).toContain(
      `${sim.graphBaseUrl}/deviceManagement/managedDevices?$top=2&$skiptoken=`,
    )
  })

  it('refuses more than 20 items, duplicate ids and a body without Content-Type', async () => {
    const many = await call(batchUrl, token, {
      method: 'POST',
      body: { requests: Array.from({ length: 21 }, (_, i) => disable(i + 1)) },
    })
    expect(many.status).toBe(400)
    expect(many.body.error.message).toContain('maximum of 20')
    const twenty = await call(batchUrl, token, {
      method: 'POST',
      body: { requests: Array.from({ length: 20 }, (_, i) => disable(i + 1)) },
    })
    expect(twenty.status).toBe(200)
    const dup = await call(batchUrl, token, {
      method: 'POST',
      body: { requests: [disable(1, 'a'), disable(2, 'a')] },
    })
    expect(dup.status).toBe(400)
    const noType = await call(batchUrl, token, {
      method: 'POST',
      body: {
        requests: [
          {
            id: '1',
            method: 'PATCH',
            url: `/devices/${guid(1, 'e0000000')}`,
            body: { accountEnabled: true },
          },
        ],
      },
    })
    expect(noType.status).toBe(400)
    expect(noType.body.error.message).toBe(
      'Write request id : 1 does not contain Content-Type header or body.',
    )
    expect((await call(batchUrl, token, { method: 'POST', body: '{not json' })).status).toBe(400)
    expect((await call(batchUrl, null, { method: 'POST', body: { requests: [disable(1)] } })).status).toBe(
      401,
    )
  })

  it('answers 424 for items whose dependency failed', async () => {
    const res = await call(batchUrl, token, {
      method: 'POST',
      body: {
        requests: [
          { id: '1', method: 'GET', url: `/devices/${guid(99)}` },
          { ...disable(22, '2'), dependsOn: ['1'] },
          { ...disable(23, '3'), dependsOn: ['2'] },
          { id: '4', method: 'GET', url: `/devices/${guid(24, 'e0000000')}` },
          { ...disable(25, '5'), dependsOn: ['4'] },
        ],
      },
    })
    const status = Object.fromEntries(
      res.body.responses.map((r: { id: string; status: number }) => [r.id, r.status]),
    )
    expect(status).toEqual({ '1': 404, '2': 424, '3': 424, '4': 200, '5': 204 })
    const untouched = await call(`${sim.graphBaseUrl}/devices/${guid(22, 'e0000000')}`, token)
    expect(untouched.body.accountEnabled).toBe(true)
  })

  it('throttles items one by one: an inner 429 carries Retry-After in its headers', async () => {
    sim.setFaults({ rate429: 1, seed: 5 })
    try {
      const res = await call(batchUrl, token, {
        method: 'POST',
        body: { requests: [disable(26), disable(27)] },
      })
      expect(res.status).toBe(200)
      for (const item of res.body.responses) {
        expect(item.status).toBe(429)
        expect(item.headers['Retry-After']).toBe('0.05')
        expect(item.body.error.code).toBe('TooManyRequests')
      }
    } finally {
      sim.setFaults({})
    }
    const six = await call(`${sim.graphBaseUrl}/devices/${guid(26, 'e0000000')}`, token)
    expect(six.body.accountEnabled).toBe(true)
  })

  it('records each mutating item as a call with its own path and status', async () => {
    const before = sim.calls().length
    await call(batchUrl, token, {
      method: 'POST',
      body: { requests: [disable(28), { id: '2', method: 'GET', url: '/devices?$top=1' }, disable(99, '3')] },
    })
    const added = sim.calls().slice(before)
    expect(added.map((c) => [c.method, c.path, c.status])).toEqual([
      ['PATCH', `/v1.0/devices/${guid(28, 'e0000000')}`, 204],
      ['PATCH', `/v1.0/devices/${guid(99, 'e0000000')}`, 404],
    ])
    expect(added[0]!.body).toEqual({ accountEnabled: false })
  })
})
