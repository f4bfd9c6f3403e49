/** @module The simulator's BitLocker recovery key API: no key in lists, the key only with $select=key and Read.All. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_APP, type Simulator, startSimulator } from './index.js'
import { call, entraDevice, GRAPH_SCOPE, getToken, guid } from './test-support.js'

const keyOf = (n: number) => ({
  id: guid(n, 'b1000000'),
  deviceId: guid(n, 'd0000000'),
  volumeType: 'operatingSystemVolume',
  createdDateTime: '2025-01-01T00:00:00Z',
  key: `secret-${n}`,
})

describe('simulator BitLocker recovery keys', () => {
  let sim: Simulator
  const basic = { clientId: 'basic', clientSecret: 'b', roles: ['BitlockerKey.ReadBasic.All'] }
  beforeAll(async () => {
    sim = await startSimulator({
      data: {
        managedDevices: [],
        devices: [entraDevice(1), entraDevice(2)],
        windowsAutopilotDeviceIdentities: [],
        machines: [],
        bitlockerRecoveryKeys: [keyOf(1), keyOf(2)],
      },
      apps: [DEFAULT_APP, basic],
    })
  })
  afterAll(() => sim.close())

  const keys = `/informationProtection/bitlocker/recoveryKeys`

  it('lists keys by deviceId without their values, and refuses other filters', async () => {
    const t = await getToken(sim, GRAPH_SCOPE)
    const filter = encodeURIComponent(`deviceId eq '${guid(2, 'd0000000')}'`)
    const res = await call(`${sim.graphBaseUrl}${keys}?$filter=${filter}`, t)
    expect(res.status).toBe(200)
    expect(res.body.value).toEqual([
      {
        id: guid(2, 'b1000000'),
        deviceId: guid(2, 'd0000000'),
        volumeType: 'operatingSystemVolume',
        createdDateTime: '2025-01-01T00:00:00Z',
      },
    ])
    const bad = await call(`${sim.graphBaseUrl}${keys}?$filter=${encodeURIComponent("volumeType eq 'x'")}`, t)
    expect(bad.status).toBe(400)
    // "This method does not support $top" (bitlocker-list-recoverykeys).
    expect((await call(`${sim.graphBaseUrl}${keys}?$top=5`, t)).status).toBe(400)
  })

  it('returns the key only with $select=key, and only to BitlockerKey.Read.All', async () => {
    const full = await getToken(sim, GRAPH_SCOPE)
    const plain = await call(`${sim.graphBaseUrl}${keys}/${guid(1, 'b1000000')}`, full)
    expect(plain.body.key).toBeUndefined()
    const withKey = await call(`${sim.graphBaseUrl}${keys}/${guid(1, 'b1000000')}?$select=key`, full)
    expect(withKey.body).toMatchObject({ id: guid(1, 'b1000000'), key: 'secret-1' })
    const readBasic = await getToken(sim, GRAPH_SCOPE, basic)
    expect((await call(`${sim.graphBaseUrl}${keys}`, readBasic)).status).toBe(200)
    const refused = await call(`${sim.graphBaseUrl}${keys}/${guid(1, 'b1000000')}?$select=key`, readBasic)
    expect(refused.status).toBe(403)
    expect(refused.body.error.message).toContain('BitlockerKey.Read.All')
  })
})
