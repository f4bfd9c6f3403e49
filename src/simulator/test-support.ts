/** @module Helpers for the simulator's own tests: small hand-made tenants, tokens, and fetch wrappers over real sockets. */
import type { Simulator, SimulatorApp, SimulatorData } from './types.js'

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default'
export const DEFENDER_SCOPE = 'https://api.securitycenter.microsoft.com/.default'

/** A GUID whose last block is `n`, so tests can name records by number. */
export function guid(n: number, prefix = '00000000'): string {
  return `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`
}

export function entraDevice(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: guid(n, 'e0000000'),
    deviceId: guid(n, 'd0000000'),
    displayName: `PC-${String(n).padStart(4, '0')}`,
    accountEnabled: true,
    approximateLastSignInDateTime: `2026-0${1 + (n % 9)}-15T00:00:00Z`,
    operatingSystem: 'Windows',
    operatingSystemVersion: '10.0.22631.4460',
    trustType: 'AzureAd',
    profileType: 'RegisteredDevice',
    physicalIds: [],
    extensionAttributes: {},
    ...extra,
  }
}

export function managedDevice(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: guid(n, 'a0000000'),
    deviceName: `PC-${String(n).padStart(4, '0')}`,
    operatingSystem: 'Windows',
    managementState: 'managed',
    azureADDeviceId: guid(n, 'd0000000'),
    serialNumber: `SN${n}`,
    userId: guid(n, 'u0000000'),
    lastSyncDateTime: '2026-10-01T00:00:00Z',
    ...extra,
  }
}

export function autopilotIdentity(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: guid(n, 'b0000000'),
    serialNumber: `SN${n}`,
    groupTag: n % 2 ? 'Sales' : 'IT',
    enrollmentState: 'enrolled',
    userPrincipalName: `user${n}@contoso.com`,
    azureActiveDirectoryDeviceId: guid(n, 'd0000000'),
    managedDeviceId: guid(n, 'a0000000'),
    ...extra,
  }
}

/** Machine n's 40-hex id: a 'c' prefix then n in hex, zero-padded, so every n has its own. */
export const machineId = (n: number): string => `c${n.toString(16).padStart(39, '0')}`

export function machine(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: machineId(n),
    computerDnsName: `pc-${n}.contoso.com`,
    osPlatform: 'Windows11',
    healthStatus: n % 3 === 0 ? 'Inactive' : 'Active',
    onboardingStatus: 'Onboarded',
    lastSeen: `2026-${String(1 + (n % 9)).padStart(2, '0')}-01T00:00:00Z`,
    aadDeviceId: guid(n, 'd0000000'),
    ...extra,
  }
}

/** `count` records of each kind, numbered from 1. */
export function smallTenant(count: number): SimulatorData {
  const range = Array.from({ length: count }, (_, i) => i + 1)
  return {
    managedDevices: range.map((n) => managedDevice(n)),
    devices: range.map((n) => entraDevice(n)),
    windowsAutopilotDeviceIdentities: range.map((n) => autopilotIdentity(n)),
    machines: range.map((n) => machine(n)),
    teamworkDevices: [
      {
        id: guid(1, 'f0000000'),
        deviceType: 'ipPhone',
        hardwareDetail: { serialNumber: 'TEAMS1', manufacturer: 'Yealink', model: 'MP56' },
      },
    ],
    meta: { tenantId: '11111111-2222-4333-8444-555555555555' },
  }
}

export async function getToken(sim: Simulator, scope: string, app?: SimulatorApp): Promise<string> {
  const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app?.clientId ?? 'offboard-sim',
      client_secret: app?.clientSecret ?? 'offboard-sim-secret',
      scope,
    }),
  })
  const body = (await res.json()) as { access_token?: string }
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`)
  return body.access_token
}

export interface CallResult {
  status: number
  headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON response bodies
  body: any
}

/** Sends one request and reads the JSON body (null when empty). */
export async function call(
  url: string,
  token: string | null,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...init.headers }
  if (token) headers.authorization = `Bearer ${token}`
  let body: string | undefined
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(body !== undefined ? { body } : {}),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null }
}

/** Follows `@odata.nextLink` verbatim to the end and returns every record and the number of pages. */
export async function listAll(
  url: string,
  token: string,
  maxPages = 1000,
): Promise<{ records: Record<string, unknown>[]; pages: number }> {
  const records: Record<string, unknown>[] = []
  let next: string | undefined = url
  let pages = 0
  while (next) {
    const res = await call(next, token)
    if (res.status !== 200) throw new Error(`${next} answered ${res.status}: ${JSON.stringify(res.body)}`)
    records.push(...res.body.value)
    next = res.body['@odata.nextLink']
    if (++pages > maxPages) throw new Error('too many pages')
  }
  return { records, pages }
}
