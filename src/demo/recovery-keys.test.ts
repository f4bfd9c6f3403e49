/** @module Demo recovery keys: only for joined Windows devices, well-formed, and the same on every call. */
import { describe, expect, it } from 'vitest'
import { generateDemoTenant } from './generate.js'
import { demoRecoveryKeys } from './recovery-keys.js'

describe('demoRecoveryKeys', () => {
  const tenant = generateDemoTenant({ devices: 200, seed: 7 })
  const keys = demoRecoveryKeys(tenant.devices)

  it('gives each Entra-joined or hybrid-joined Windows device one well-formed key, and no other device any', () => {
    const joinedWindows = tenant.devices.filter(
      (d) =>
        d.operatingSystem.startsWith('Windows') && (d.trustType === 'AzureAd' || d.trustType === 'ServerAd'),
    )
    expect(joinedWindows.length).toBeGreaterThan(0)
    expect(keys.map((k) => k.deviceId)).toEqual(joinedWindows.map((d) => d.deviceId))
    for (const k of keys) {
      expect(k.key).toMatch(/^(\d{6}-){7}\d{6}$/)
      for (const group of k.key.split('-')) expect(Number(group) % 11).toBe(0)
    }
    expect(new Set(keys.map((k) => k.id)).size).toBe(keys.length)
  })

  it('is deterministic', () => {
    expect(demoRecoveryKeys(tenant.devices)).toEqual(keys)
  })
})
