/** @module Graph over the wire: paging, $select, $filter, get by id, auth errors, permissions, and each mutation's effect. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemoTenant } from '../demo/generate.js'
import { startSimulator } from './server.js'
import {
  call,
  DEFENDER_SCOPE,
  entraDevice,
  GRAPH_SCOPE,
  getToken,
  guid,
  listAll,
  managedDevice,
  smallTenant,
} from './test-support.js'
import type { Simulator } from './types.js'

describe('Graph lists and reads', () => {
  let sim: Simulator
  let token: string
  beforeAll(async () => {
    sim = await startSimulator({
      data: smallTenant(25),
      pageSize: { managedDevices: 10, windowsAutopilotDeviceIdentities: 7 },
    })
    token = await getToken(sim, GRAPH_SCOPE)
  })
  afterAll(() => sim.close())

  it('pages Entra devices with $top and an opaque $skiptoken, each record once', async () => {
    const first = await call(`${sim.graphBaseUrl}/devices?$top=10`, token)
    expect(first.status).toBe(200)
    expect(first.body['@odata.context']).toBe(`${sim.url}/v1.0/$metadata#devices`)
    const next = first.body['@odata.nextLink'] as string
    expect(next.startsWith(`${sim.graphBaseUrl}/devices?$top=10&$skiptoken=`)).toBe(true)
    // Offsets are not readable in the token.
    expect(new URL(next).searchParams.get('$skiptoken')).not.toMatch(/^\d+$/)
    const { records, pages } = await listAll(`${sim.graphBaseUrl}/devices?$top=10`, token)
    expect(pages).toBe(3)
    expect(new Set(records.map((r) => r.id)).size).toBe(25)
  })

  it('uses the server page size without $top, and caps Intune and Autopilot pages', async () => {
    const entra = await call(`${sim.graphBaseUrl}/devices`, token)
    expect(entra.body.value).toHaveLength(25)
    expect(entra.body['@odata.nextLink']).toBeUndefined()
    const intune = await call(`${sim.graphBaseUrl}/deviceManagement/managedDevices?$top=500`, token)
    expect(intune.body.value).toHaveLength(10)
    const all = await listAll(`${sim.graphBaseUrl}/deviceManagement/windowsAutopilotDeviceIdentities`, token)
    expect(all.pages).toBe(4)
    expect(new Set(all.records.map((r) => r.id)).size).toBe(25)
  })

  it('rejects an Entra $top above 999 and a tampered skip token', async () => {
    const big = await call(`${sim.graphBaseUrl}/devices?$top=1000`, token)
    expect(big.status).toBe(400)
    expect(big.body.error.code).toBe('Request_BadRequest')
    expect(big.body.error.message).toContain('between 1 and 999')
    const bad = await call(`${sim.graphBaseUrl}/devices?$skiptoken=MTA`, token)
    expect(bad.status).toBe(400)
  })

  it('projects $select and always returns id; unknown Entra properties are 400', async () => {
    const res = await call(`${sim.graphBaseUrl}/devices?$top=2&$select=displayName,accountEnabled`, token)
    expect(res.body['@odata.context']).toBe(
      `${sim.url}/v1.0/$metadata#devices(id,displayName,accountEnabled)`,
    )
    expect(res.body.value[0]).toEqual({
      id: guid(1, 'e0000000'),
      displayName: 'PC-0001',
      accountEnabled: true,
    })
    expect(res.body['@odata.nextLink']).toContain('$select=displayName,accountEnabled')
    const unknown = await call(`${sim.graphBaseUrl}/devices?$select=displayName,nope`, token)
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toMatchObject({
      code: 'Request_BadRequest',
      message: "Could not find a property named 'nope' on type 'microsoft.graph.device'.",
    })
  })

  it('filters Entra by eq and approximateLastSignInDateTime le; unsupported filters are 400', async () => {
    const eq = await call(`${sim.graphBaseUrl}/devices?$filter=deviceId eq '${guid(3, 'd0000000')}'`, token)
    expect(eq.body.value.map((d: { displayName: string }) => d.displayName)).toEqual(['PC-0003'])
    const le = await call(
      `${sim.graphBaseUrl}/devices?$filter=${encodeURIComponent('approximateLastSignInDateTime le 2026-02-28T00:00:00Z')}`,
      token,
    )
    // n % 9 of 0 or 1 → January or February: n = 1, 9, 10, 18, 19.
    expect(le.body.value.map((d: { displayName: string }) => d.displayName)).toEqual([
      'PC-0001',
      'PC-0009',
      'PC-0010',
      'PC-0018',
      'PC-0019',
    ])
    const bad = await call(`${sim.graphBaseUrl}/devices?$filter=registrationDateTime eq 'x'`, token)
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('Request_BadRequest')
    const ne = await call(`${sim.graphBaseUrl}/devices?$filter=trustType ne 'AzureAd'`, token)
    expect(ne.body.error.code).toBe('Request_UnsupportedQuery')
    const neAdvanced = await call(
      `${sim.graphBaseUrl}/devices?$filter=trustType ne 'AzureAd'&$count=true`,
      token,
      {
        headers: { ConsistencyLevel: 'eventual' },
      },
    )
    expect(neAdvanced.body['@odata.count']).toBe(0)
  })

  it('ignores an unsupported Intune filter and returns everything (reference §0.3)', async () => {
    const ignored = await listAll(
      `${sim.graphBaseUrl}/deviceManagement/managedDevices?$filter=userId eq 'x'`,
      token,
    )
    expect(ignored.records).toHaveLength(25)
    const supported = await call(
      `${sim.graphBaseUrl}/deviceManagement/managedDevices?$filter=serialNumber eq 'SN4'`,
      token,
    )
    expect(supported.body.value.map((d: { id: string }) => d.id)).toEqual([guid(4, 'a0000000')])
  })

  it('gets one record by id, with 404 bodies per service', async () => {
    const one = await call(`${sim.graphBaseUrl}/devices/${guid(2, 'e0000000')}?$select=displayName`, token)
    expect(one.body).toEqual({
      '@odata.context': `${sim.url}/v1.0/$metadata#devices(id,displayName)/$entity`,
      id: guid(2, 'e0000000'),
      displayName: 'PC-0002',
    })
    const missingEntra = await call(`${sim.graphBaseUrl}/devices/${guid(99)}`, token)
    expect(missingEntra.status).toBe(404)
    expect(missingEntra.body.error.code).toBe('Request_ResourceNotFound')
    const missingIntune = await call(`${sim.graphBaseUrl}/deviceManagement/managedDevices/${guid(99)}`, token)
    expect(missingIntune.body.error.code).toBe('ResourceNotFound')
  })

  it('serves the Teams devices inventory in beta only', async () => {
    const beta = await call(`${sim.url}/beta/teamwork/devices`, token)
    expect(beta.body.value).toHaveLength(1)
    expect((await call(`${sim.url}/v1.0/teamwork/devices`, token)).status).toBe(400)
  })

  it('returns every demo-tenant record once when nextLink is followed', async () => {
    const demo = generateDemoTenant({ devices: 300, seed: 3 })
    const big = await startSimulator({ data: demo })
    try {
      const t = await getToken(big, GRAPH_SCOPE)
      const { records } = await listAll(`${big.graphBaseUrl}/devices?$top=37&$select=id,displayName`, t)
      expect(records.map((r) => r.id)).toEqual(demo.devices.map((d) => d.id))
      expect(big.tenantId).toBe(demo.meta.tenantId)
    } finally {
      await big.close()
    }
  })
})

describe('Graph authentication and permissions', () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startSimulator({
      data: smallTenant(3),
      apps: [
        { clientId: 'full', clientSecret: 's1', roles: ['Device.Read.All', 'Machine.Read.All'] },
        { clientId: 'reader', clientSecret: 's2', roles: ['DeviceManagementManagedDevices.Read.All'] },
      ],
    })
  })
  afterAll(() => sim.close())

  it('answers 401 without a token, with a bad one, and for the wrong audience', async () => {
    const none = await call(`${sim.graphBaseUrl}/devices`, null)
    expect(none.status).toBe(401)
    expect(none.body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
    })
    expect((await call(`${sim.graphBaseUrl}/devices`, 'a.b.c')).status).toBe(401)
    const defenderToken = await getToken(sim, DEFENDER_SCOPE, {
      clientId: 'full',
      clientSecret: 's1',
      roles: [],
    })
    const wrong = await call(`${sim.graphBaseUrl}/devices`, defenderToken)
    expect(wrong.status).toBe(401)
    expect(wrong.body.error.message).toContain('Invalid audience')
    const graphToken = await getToken(sim, GRAPH_SCOPE, { clientId: 'full', clientSecret: 's1', roles: [] })
    expect((await call(`${sim.defenderBaseUrl}/api/machines`, graphToken)).status).toBe(401)
  })

  it('answers 403 naming the missing permission', async () => {
    const t = await getToken(sim, GRAPH_SCOPE, { clientId: 'reader', clientSecret: 's2', roles: [] })
    expect((await call(`${sim.graphBaseUrl}/deviceManagement/managedDevices`, t)).status).toBe(200)
    const entra = await call(`${sim.graphBaseUrl}/devices`, t)
    expect(entra.status).toBe(403)
    expect(entra.body.error).toMatchObject({
      code: 'Authorization_RequestDenied',
      message:
        'Insufficient privileges to complete the operation. Missing application permission: Device.Read.All.',
    })
    const del = await call(`${sim.graphBaseUrl}/deviceManagement/managedDevices/${guid(1, 'a0000000')}`, t, {
      method: 'DELETE',
    })
    expect(del.status).toBe(403)
    expect(del.body.error.message).toContain('DeviceManagementManagedDevices.ReadWrite.All')
    const d = await getToken(sim, DEFENDER_SCOPE, { clientId: 'reader', clientSecret: 's2', roles: [] })
    const machines = await call(`${sim.defenderBaseUrl}/api/machines`, d)
    expect(machines.status).toBe(403)
    expect(machines.body.error).toMatchObject({
      code: 'Forbidden',
      message: 'Missing application permission: Machine.Read.All',
    })
    expect(machines.body.error.target).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('refuses a wrong secret and an unknown client at the token endpoint', async () => {
    const post = (form: Record<string, string>) =>
      fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: GRAPH_SCOPE, ...form }),
      })
    const wrong = await post({ client_id: 'full', client_secret: 'nope' })
    expect(wrong.status).toBe(401)
    const body = (await wrong.json()) as { error: string; error_description: string }
    expect(body.error).toBe('invalid_client')
    expect(body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided/)
    expect((await post({ client_id: 'ghost', client_secret: 'x' })).status).toBe(401)
    expect(
      (
        await post({
          client_id: 'full',
          client_secret: 's1',
          scope: 'https://graph.microsoft.com/Device.Read.All',
        })
      ).status,
    ).toBe(400)
    const discovery = await fetch(
      `${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`,
    )
    const config = (await discovery.json()) as Record<string, string>
    expect(config.token_endpoint).toBe(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`)
    expect(config.issuer).toBe(`${sim.url}/${sim.tenantId}/v2.0`)
  })

  it('puts the app, audience and roles of the audience into the JWT', async () => {
    const t = await getToken(sim, GRAPH_SCOPE, { clientId: 'full', clientSecret: 's1', roles: [] })
    const [head, payload, sig] = t.split('.')
    expect(JSON.parse(Buffer.from(head!, 'base64url').toString())).toMatchObject({ alg: 'HS256', typ: 'JWT' })
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString())
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      tid: sim.tenantId,
      appid: 'full',
      roles: ['Device.Read.All'],
    })
    expect(claims.exp - claims.iat).toBe(3599)
    expect(sig).toBeTruthy()
  })
})

describe('Graph mutations', () => {
  let sim: Simulator
  let token: string
  const data = smallTenant(4)
  data.devices.push(
    entraDevice(50, { operatingSystem: 'iOS' }),
    entraDevice(51, { operatingSystem: 'Linux' }),
  )
  data.managedDevices.push(managedDevice(60, { operatingSystem: 'Android' }))
  beforeAll(async () => {
    sim = await startSimulator({ data, autopilotDeleteDelayMs: 150 })
    token = await getToken(sim, GRAPH_SCOPE)
  })
  afterAll(() => sim.close())

  it('disables an Entra device with PATCH accountEnabled, visible on the next read', async () => {
    const url = `${sim.graphBaseUrl}/devices/${guid(1, 'e0000000')}`
    const res = await call(url, token, { method: 'PATCH', body: { accountEnabled: false } })
    expect(res.status).toBe(204)
    expect((await call(url, token)).body.accountEnabled).toBe(false)
    const other = await call(url, token, { method: 'PATCH', body: { displayName: 'x' } })
    expect(other.status).toBe(400)
    expect((await call(url, token, { method: 'PATCH', body: { accountEnabled: 'no' } })).status).toBe(400)
    expect(
      (
        await call(`${sim.graphBaseUrl}/devices/${guid(99)}`, token, {
          method: 'PATCH',
          body: { accountEnabled: false },
        })
      ).status,
    ).toBe(404)
  })

  it('refuses app-only changes to non-Windows devices except extensionAttributes (reference §0.6)', async () => {
    const ios = `${sim.graphBaseUrl}/devices/${guid(50, 'e0000000')}`
    const denied = await call(ios, token, { method: 'PATCH', body: { accountEnabled: false } })
    expect(denied.status).toBe(403)
    expect(denied.body.error).toMatchObject({
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    })
    const ext = await call(ios, token, {
      method: 'PATCH',
      body: { extensionAttributes: { extensionAttribute1: 'stale' } },
    })
    expect(ext.status).toBe(204)
    expect((await call(ios, token)).body.extensionAttributes).toEqual({ extensionAttribute1: 'stale' })
    const linux = await call(`${sim.graphBaseUrl}/devices/${guid(51, 'e0000000')}`, token, {
      method: 'PATCH',
      body: { extensionAttributes: { extensionAttribute1: 'x' } },
    })
    expect(linux.status).toBe(403)
  })

  it('retires and deletes Intune devices', async () => {
    const two = `${sim.graphBaseUrl}/deviceManagement/managedDevices/${guid(2, 'a0000000')}`
    expect((await call(`${two}/retire`, token, { method: 'POST' })).status).toBe(204)
    expect((await call(two, token)).body.managementState).toBe('retirePending')
    expect((await call(two, token, { method: 'DELETE' })).status).toBe(204)
    expect((await call(two, token)).status).toBe(404)
    expect((await call(two, token, { method: 'DELETE' })).status).toBe(404)
    expect((await call(`${two}/retire`, token, { method: 'POST' })).status).toBe(404)
    expect(sim.data().managedDevices.map((d) => (d as { id: string }).id)).not.toContain(guid(2, 'a0000000'))
  })

  it('unassigns the Autopilot user, and deregisters asynchronously', async () => {
    const three = `${sim.graphBaseUrl}/deviceManagement/windowsAutopilotDeviceIdentities/${guid(3, 'b0000000')}`
    expect((await call(`${three}/unassignUserFromDevice`, token, { method: 'POST' })).status).toBe(204)
    expect((await call(three, token)).body.userPrincipalName).toBe('')
    const del = await call(three, token, { method: 'DELETE' })
    expect([200, 204]).toContain(del.status)
    // Still listed right after the call: deregistration takes a while (reference §6.3).
    expect((await call(three, token)).status).toBe(200)
    await new Promise((r) => setTimeout(r, 200))
    expect((await call(three, token)).status).toBe(404)
  })

  it('records every mutating call with its status and caller', async () => {
    const calls = sim.calls()
    expect(calls.length).toBeGreaterThanOrEqual(10)
    expect(calls[0]).toMatchObject({
      seq: 1,
      method: 'PATCH',
      path: `/v1.0/devices/${guid(1, 'e0000000')}`,
      query: '',
      body: { accountEnabled: false },
      status: 204,
      clientId: 'offboard-sim',
    })
    expect(calls.every((c) => c.method !== 'GET')).toBe(true)
    const remote = (await (await fetch(`${sim.url}/_simulator/calls`)).json()) as unknown[]
    expect(remote).toEqual(calls)
    expect(
      sim.requests().some((r) => r.method === 'GET' && r.path === '/v1.0/devices/' + guid(1, 'e0000000')),
    ).toBe(true)
  })
})
