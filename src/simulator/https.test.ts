/** @module HTTPS with the start-up certificate: Node https with `ca`, fetch with NODE_EXTRA_CA_CERTS, and @azure/identity's ClientSecretCredential. */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { promisify } from 'node:util'
import { ClientSecretCredential } from '@azure/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator } from './server.js'
import { DEFENDER_SCOPE, GRAPH_SCOPE, smallTenant } from './test-support.js'
import type { Simulator } from './types.js'

const run = promisify(execFile)

function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A child process that signs in with @azure/identity and reads devices with fetch, trusting only NODE_EXTRA_CA_CERTS. */
const CHILD_SCRIPT = `
import { ClientSecretCredential } from '@azure/identity'
const [url, tenant] = process.argv.slice(1)
const out = {}
try {
  await fetch(url + '/' + tenant + '/v2.0/.well-known/openid-configuration')
  const cred = new ClientSecretCredential(tenant, 'offboard-sim', 'offboard-sim-secret', { authorityHost: url, disableInstanceDiscovery: true })
  const { token } = await cred.getToken('https://graph.microsoft.com/.default')
  const res = await fetch(url + '/v1.0/devices?$top=2', { headers: { authorization: 'Bearer ' + token } })
  out.status = res.status
  out.count = (await res.json()).value.length
} catch (err) {
  out.error = String(err && (err.cause?.code ?? err.message))
}
console.log(JSON.stringify(out))
`

describe('HTTPS', () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startSimulator({ data: smallTenant(3), https: true })
  })
  afterAll(() => sim.close())

  it('serves HTTPS on 127.0.0.1 with a certificate written for NODE_EXTRA_CA_CERTS', () => {
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(sim.caPem).toContain('BEGIN CERTIFICATE')
    expect(readFileSync(sim.caPath!, 'utf8')).toBe(sim.caPem)
  })

  it('lets @azure/identity ClientSecretCredential get tokens (authorityHost, disableInstanceDiscovery)', async () => {
    const cred = new ClientSecretCredential(sim.tenantId, 'offboard-sim', 'offboard-sim-secret', {
      authorityHost: sim.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: sim.caPem },
    })
    const graph = await cred.getToken(GRAPH_SCOPE)
    expect(graph.expiresOnTimestamp - Date.now()).toBeGreaterThan(3500_000)
    const res = await httpsGet(`${sim.graphBaseUrl}/devices`, sim.caPem!, graph.token)
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body).value).toHaveLength(3)
    const defender = await cred.getToken(DEFENDER_SCOPE)
    expect((await httpsGet(`${sim.defenderBaseUrl}/api/machines`, sim.caPem!, defender.token)).status).toBe(
      200,
    )
    const wrong = new ClientSecretCredential(sim.tenantId, 'offboard-sim', 'nope', {
      authorityHost: sim.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: sim.caPem },
    })
    await expect(wrong.getToken(GRAPH_SCOPE)).rejects.toThrow(/AADSTS7000215/)
    const discovery = sim.requests().filter((r) => r.path.endsWith('/v2.0/.well-known/openid-configuration'))
    expect(discovery.length).toBeGreaterThan(0)
  })

  it('is trusted by another process through NODE_EXTRA_CA_CERTS, and only then', async () => {
    const args = ['--input-type=module', '-e', CHILD_SCRIPT, sim.url, sim.tenantId]
    const { NODE_EXTRA_CA_CERTS: _ignored, ...baseEnv } = process.env
    const [trusted, untrusted] = await Promise.all([
      run(process.execPath, args, { env: { ...baseEnv, NODE_EXTRA_CA_CERTS: sim.caPath! } }),
      run(process.execPath, args, { env: baseEnv }),
    ])
    expect(JSON.parse(trusted.stdout)).toEqual({ status: 200, count: 2 })
    expect(JSON.parse(untrusted.stdout).error).toMatch(/certificate|CERT|self.signed/i)
  })
})
