/**
 * @module Delegated sign-in on the simulator: the device authorization grant and refresh tokens over HTTP, the claims
 * of a user token, scope-based authorization, and who may disable which device object (reference §0.6, §2.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIRECTORY_ROLE_TEMPLATE_IDS, delegatedEquivalents, mayEnableDevices } from './permissions.js'
import { missingPermission } from './routing.js'
import { startSimulator } from './server.js'
import {
  call,
  DEFENDER_SCOPE,
  entraDevice,
  GRAPH_SCOPE,
  getToken,
  guid,
  smallTenant,
} from './test-support.js'
import { DEVELOPER_CLIENT_ID, type TokenClaims } from './token.js'
import type { Simulator, SimulatorData, SimulatorUser } from './types.js'

const CDA: SimulatorUser = { upn: 'cda@contoso.com', directoryRoles: ['Cloud Device Administrator'] }
const NO_ROLE: SimulatorUser = { upn: 'helpdesk@contoso.com', directoryRoles: [] }

function tenant(): SimulatorData {
  const data = smallTenant(2)
  data.devices.push(
    entraDevice(3, { operatingSystem: 'iOS' }),
    entraDevice(4, { operatingSystem: 'MacMDM' }),
    entraDevice(5, { operatingSystem: 'Linux' }),
  )
  return data
}

const claimsOf = (token: string): TokenClaims & Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))

async function post(sim: Simulator, path: string, form: Record<string, string>) {
  const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  })
  // biome-ignore lint/suspicious/noExplicitAny: tests read the token endpoint's JSON
  return { status: res.status, body: (await res.json()) as any }
}

/** The device code flow as MSAL runs it: ask for a code, then poll until the (automatic) approval. */
async function deviceCodeSignIn(sim: Simulator, scope = `${GRAPH_SCOPE} openid profile offline_access`) {
  const code = await post(sim, 'devicecode', { client_id: DEVELOPER_CLIENT_ID, scope })
  expect(code.status, JSON.stringify(code.body)).toBe(200)
  const poll = () =>
    post(sim, 'token', {
      grant_type: 'device_code',
      client_id: DEVELOPER_CLIENT_ID,
      device_code: code.body.device_code,
    })
  const first = await poll()
  const second = await poll()
  return { code: code.body, first, second, poll }
}

const devicePatch = (sim: Simulator, n: number, token: string, body: unknown = { accountEnabled: false }) =>
  call(`${sim.graphBaseUrl}/devices/${guid(n, 'e0000000')}`, token, { method: 'PATCH', body })

describe('the device code flow', () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startSimulator({ data: tenant(), users: [NO_ROLE, CDA], deviceCodeUser: CDA.upn })
  })
  afterAll(() => sim.close())

  it('answers with the fields MSAL reads, is pending on the first poll, then issues a user token once', async () => {
    const { code, first, second, poll } = await deviceCodeSignIn(sim)
    expect(code).toMatchObject({
      user_code: expect.any(String),
      device_code: expect.any(String),
      verification_uri: 'https://microsoft.com/devicelogin',
      expires_in: 900,
      interval: 1,
    })
    expect(code.message).toContain(code.user_code)
    expect(code.message).toContain(CDA.upn)
    expect(first).toMatchObject({ status: 400, body: { error: 'authorization_pending' } })
    expect(second.status, JSON.stringify(second.body)).toBe(200)
    expect(second.body).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) })
    const idToken = claimsOf(second.body.id_token)
    expect(idToken).toMatchObject({
      preferred_username: CDA.upn,
      tid: sim.tenantId,
      aud: DEVELOPER_CLIENT_ID,
    })
    const clientInfo = JSON.parse(Buffer.from(second.body.client_info, 'base64url').toString('utf8'))
    expect(clientInfo).toEqual({ uid: idToken.oid, utid: sim.tenantId })

    const claims = claimsOf(second.body.access_token)
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      idtyp: 'user',
      upn: CDA.upn,
      appid: DEVELOPER_CLIENT_ID,
      wids: [DIRECTORY_ROLE_TEMPLATE_IDS['Cloud Device Administrator']],
    })
    expect(claims.roles).toBeUndefined()
    expect(claims.scp?.split(' ')).toEqual(
      expect.arrayContaining(['Directory.AccessAsUser.All', 'Device.Read.All']),
    )
    expect(claims.scp).not.toContain('Machine.')
    // Redeemed codes are gone.
    expect((await poll()).body.error).toBe('invalid_grant')
  })

  it('exchanges the refresh token for a Defender token with Defender scopes only', async () => {
    const { second } = await deviceCodeSignIn(sim)
    const refreshed = await post(sim, 'token', {
      grant_type: 'refresh_token',
      client_id: DEVELOPER_CLIENT_ID,
      refresh_token: second.body.refresh_token,
      scope: `${DEFENDER_SCOPE} openid profile offline_access`,
    })
    expect(refreshed.status).toBe(200)
    const claims = claimsOf(refreshed.body.access_token)
    expect(claims.aud).toBe('https://api.securitycenter.microsoft.com')
    expect(claims.scp?.split(' ').sort()).toEqual(['Machine.Offboard', 'Machine.Read', 'Machine.ReadWrite'])
    const machines = await call(`${sim.defenderBaseUrl}/api/machines`, refreshed.body.access_token)
    expect(machines.status).toBe(200)
    const bad = await post(sim, 'token', {
      grant_type: 'refresh_token',
      client_id: DEVELOPER_CLIENT_ID,
      refresh_token: 'not-a-refresh-token',
      scope: GRAPH_SCOPE,
    })
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
  })

  it('refuses an unknown client and a scope without a resource', async () => {
    const client = await post(sim, 'devicecode', { client_id: 'nobody', scope: GRAPH_SCOPE })
    expect(client).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } })
    const scope = await post(sim, 'devicecode', { client_id: DEVELOPER_CLIENT_ID, scope: 'openid profile' })
    expect(scope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } })
  })

  it('lets a Cloud Device Administrator disable iOS, macOS and Linux objects, which app-only tokens cannot', async () => {
    const user = (await deviceCodeSignIn(sim)).second.body.access_token as string
    const app = await getToken(sim, GRAPH_SCOPE)
    for (const n of [3, 4, 5]) {
      const refused = await devicePatch(sim, n, app)
      expect(refused.status, `app-only, device ${n}`).toBe(403)
      expect(refused.body.error.code).toBe('Authorization_RequestDenied')
      expect((await devicePatch(sim, n, user)).status, `delegated, device ${n}`).toBe(204)
    }
    const disabled = sim
      .data()
      .devices.filter((d) => (d as { accountEnabled: boolean }).accountEnabled === false)
    expect(disabled.map((d) => (d as { operatingSystem: string }).operatingSystem).sort()).toEqual([
      'Linux',
      'MacMDM',
      'iOS',
    ])
    // The calls are recorded with the client id of the user token.
    expect(
      sim
        .calls()
        .filter((c) => c.status === 204)
        .every((c) => c.clientId === DEVELOPER_CLIENT_ID),
    ).toBe(true)
  })
})

describe('a signed-in user without a device role', () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startSimulator({ data: tenant(), users: [NO_ROLE] })
  })
  afterAll(() => sim.close())

  it('may read devices but not enable or disable any, Windows included', async () => {
    const user = (await deviceCodeSignIn(sim)).second.body.access_token as string
    expect(claimsOf(user).wids).toEqual([])
    expect((await call(`${sim.graphBaseUrl}/devices`, user)).status).toBe(200)
    for (const n of [1, 3, 5]) {
      const res = await devicePatch(sim, n, user)
      expect(res.status, `device ${n}`).toBe(403)
      expect(res.body.error.code).toBe('Authorization_RequestDenied')
    }
    expect(sim.data().devices.every((d) => (d as { accountEnabled: boolean }).accountEnabled)).toBe(true)
    // extensionAttributes need no role.
    expect(
      (await devicePatch(sim, 5, user, { extensionAttributes: { extensionAttribute1: 'x' } })).status,
    ).toBe(204)
  })
})

describe('authorization by token kind', () => {
  const base = { aud: 'https://graph.microsoft.com', iss: '', tid: '', appid: 'a', iat: 0, nbf: 0, exp: 0 }
  const app = (roles: string[]): TokenClaims => ({ ...base, idtyp: 'app', roles })
  const user = (scp: string): TokenClaims => ({ ...base, idtyp: 'user', scp, wids: [] })

  it('maps each application permission to its delegated equivalents', () => {
    expect(delegatedEquivalents(['Device.ReadWrite.All', 'Directory.ReadWrite.All'])).toEqual([
      'Directory.AccessAsUser.All',
    ])
    expect(delegatedEquivalents(['Machine.Read.All', 'Machine.ReadWrite.All'])).toEqual([
      'Machine.Read',
      'Machine.ReadWrite',
    ])
  })

  it('checks roles for app tokens and scopes for user tokens, never the one for the other', () => {
    const write = ['Device.ReadWrite.All', 'Directory.ReadWrite.All']
    expect(missingPermission(write, app(['Device.ReadWrite.All']))).toBeNull()
    expect(missingPermission(write, app(['Device.Read.All']))).toEqual({
      kind: 'application',
      name: 'Device.ReadWrite.All',
    })
    expect(missingPermission(write, user('Device.Read.All Directory.AccessAsUser.All'))).toBeNull()
    // An application permission's name in scp does not count: Device.ReadWrite.All is not how users write devices.
    expect(missingPermission(write, user('Device.ReadWrite.All'))).toEqual({
      kind: 'delegated',
      name: 'Directory.AccessAsUser.All',
    })
    expect(missingPermission(['Device.Read.All'], { ...user(''), roles: ['Device.Read.All'] })).toEqual({
      kind: 'delegated',
      name: 'Device.Read.All',
    })
  })

  it('allows enabling devices only to the device roles', () => {
    expect(mayEnableDevices([DIRECTORY_ROLE_TEMPLATE_IDS['Intune Administrator']!])).toBe(true)
    expect(mayEnableDevices([DIRECTORY_ROLE_TEMPLATE_IDS['Cloud Device Administrator']!])).toBe(true)
    expect(mayEnableDevices(['00000000-0000-0000-0000-000000000000'])).toBe(false)
    expect(mayEnableDevices(undefined)).toBe(false)
  })

  it('refuses a user with an unknown role name at start', async () => {
    await expect(
      startSimulator({
        data: tenant(),
        users: [{ upn: 'x@contoso.com', directoryRoles: ['Device Wizard'] }],
      }),
    ).rejects.toThrow(/unknown directory role "Device Wizard"/)
  })
})
