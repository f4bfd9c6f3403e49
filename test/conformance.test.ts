/**
 * @module Conformance with the real API, proven with clients nobody here wrote: Microsoft's Graph SDK pages through
 * the simulator over HTTPS, and the records it serves use the property names and enum values that
 * @microsoft/microsoft-graph-types declares for Graph v1.0.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateDemoTenant } from '../src/demo/generate.js'
import { loadSimulatorData, startSimulator } from '../src/simulator/index.js'

const require = createRequire(import.meta.url)
const dts = readFileSync(require.resolve('@microsoft/microsoft-graph-types/microsoft-graph.d.ts'), 'utf8')

/** Property names and types of an interface in the .d.ts, including those it inherits. */
function interfaceProps(name: string): Map<string, string> {
  const m = new RegExp(`export interface ${name}(?: extends (\\w+))? \\{([\\s\\S]*?)\\n\\}`).exec(dts)
  if (!m) throw new Error(`interface ${name} not found in microsoft-graph-types`)
  const props = m[1] ? interfaceProps(m[1]) : new Map<string, string>()
  for (const p of m[2]!.matchAll(/^\s{4}(\w+)\??: ([^;]+);/gm)) props.set(p[1]!, p[2]!.trim())
  return props
}

const enumCache = new Map<string, string[] | null>()

/** The string literals of a `export type X = "a" | "b"` alias, or null when it is not such an enum. */
function enumValues(typeName: string): string[] | null {
  if (enumCache.has(typeName)) return enumCache.get(typeName)!
  const m = new RegExp(`export type ${typeName} =([^;]+);`).exec(dts)
  const values = m ? [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!) : []
  const result = values.length ? values : null
  enumCache.set(typeName, result)
  return result
}

/**
 * Properties the v1.0 API documents (reference §2.2) that this version of the types package lacks.
 * Listed by name so that any other unknown property still fails.
 */
const DOCUMENTED_BUT_UNTYPED: Record<string, string[]> = { Device: ['extensionAttributes'] }

function checkRecords(records: object[], iface: string): string[] {
  const props = interfaceProps(iface)
  for (const extra of DOCUMENTED_BUT_UNTYPED[iface] ?? []) props.set(extra, 'object')
  const problems = new Set<string>()
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      if (key.startsWith('@odata.')) continue
      const type = props.get(key)
      if (!type) {
        problems.add(`${iface} has no property "${key}"`)
        continue
      }
      const allowed = enumValues(type.replace(/ \| null$/, '').replace(/^NullableOption<(\w+)>$/, '$1'))
      if (allowed && value !== null && !allowed.includes(String(value)))
        problems.add(`${iface}.${key} = "${value}" is not a ${type}`)
    }
  }
  return [...problems]
}

describe('conformance with Microsoft Graph v1.0', () => {
  const tenant = generateDemoTenant({ devices: 600, seed: 5 })

  /** Every record of a collection as a plain v1.0 client receives it from the simulator (no Prefer header). */
  async function served(path: string): Promise<object[]> {
    const sim = await startSimulator({ data: await loadSimulatorData({ devices: 600, seed: 5 }) })
    try {
      const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'offboard-sim',
          client_secret: 'offboard-sim-secret',
          scope: 'https://graph.microsoft.com/.default',
        }),
      })
      const token = ((await res.json()) as { access_token: string }).access_token
      const out: object[] = []
      let url: string | undefined = `${sim.graphBaseUrl}${path}`
      while (url) {
        const page = (await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          value: object[]
          '@odata.nextLink'?: string
        }
        out.push(...page.value)
        url = page['@odata.nextLink']
      }
      return out
    } finally {
      await sim.close()
    }
  }

  it('Intune managed devices use managedDevice property names and v1.0 enum values', async () => {
    const records = await served('/deviceManagement/managedDevices')
    expect(records).toHaveLength(tenant.managedDevices.length)
    expect(checkRecords(records, 'ManagedDevice')).toEqual([])
  })

  it('Entra devices use device property names and enum values', async () => {
    expect(checkRecords(await served('/devices'), 'Device')).toEqual([])
  })

  it('Autopilot identities use windowsAutopilotDeviceIdentity property names and enum values', async () => {
    const records = await served('/deviceManagement/windowsAutopilotDeviceIdentities')
    expect(checkRecords(records, 'WindowsAutopilotDeviceIdentity')).toEqual([])
  })

  it('the checker itself catches a misspelt property and a bad enum value', () => {
    expect(checkRecords([{ id: 'x', managedDeviceOwnerTyp: 'company' }], 'ManagedDevice')).toEqual([
      'ManagedDevice has no property "managedDeviceOwnerTyp"',
    ])
    expect(checkRecords([{ id: 'x', managedDeviceOwnerType: 'corporate' }], 'ManagedDevice')).toHaveLength(1)
  })

  it("Microsoft's Graph SDK PageIterator pages through the simulator over HTTPS and sees every record once", async () => {
    const data = await loadSimulatorData({ devices: 200, seed: 5 })
    const sim = await startSimulator({
      data,
      https: true,
      pageSize: { managedDevices: 25, windowsAutopilotDeviceIdentities: 25 },
    })
    try {
      const child = spawn(
        process.execPath,
        [join(import.meta.dirname, 'conformance/page-with-graph-sdk.mjs'), sim.url, sim.tenantId],
        {
          env: { ...process.env, NODE_EXTRA_CA_CERTS: sim.caPath! },
          cwd: join(import.meta.dirname, '..'),
        },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString()
      })
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString()
      })
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      expect(code, stderr).toBe(0)
      const seen = JSON.parse(stdout) as Record<string, { ids: string[]; pages: number }>
      const expectIds = (records: object[]) => records.map((r) => (r as { id: string }).id).sort()
      expect([...seen['/devices']!.ids].sort()).toEqual(expectIds(data.devices))
      expect([...seen['/deviceManagement/managedDevices']!.ids].sort()).toEqual(
        expectIds(data.managedDevices),
      )
      expect([...seen['/deviceManagement/windowsAutopilotDeviceIdentities']!.ids].sort()).toEqual(
        expectIds(data.windowsAutopilotDeviceIdentities),
      )
      expect(seen['/devices']!.pages).toBeGreaterThan(1)
      expect(seen['/deviceManagement/managedDevices']!.pages).toBe(Math.ceil(data.managedDevices.length / 25))
    } finally {
      await sim.close()
    }
  })
})
