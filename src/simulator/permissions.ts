/** @module Application permissions the simulator enforces, per operation, as in reference §1.1, §2.1, §3.1 and §4.1. */
import type { SimulatorApp } from './types.js'

export const GRAPH_AUDIENCE = 'https://graph.microsoft.com'
/** The scope of the Defender docs' examples; the newer host is accepted as an alias (reference §4.1). */
export const DEFENDER_AUDIENCE = 'https://api.securitycenter.microsoft.com'
export const DEFENDER_AUDIENCE_ALIASES = [DEFENDER_AUDIENCE, 'https://api.security.microsoft.com'] as const

/** Each list holds every permission that allows the operation, least privileged first (named in 403 messages). */
export const PERMISSIONS = {
  intuneRead: ['DeviceManagementManagedDevices.Read.All', 'DeviceManagementManagedDevices.ReadWrite.All'],
  intuneDelete: ['DeviceManagementManagedDevices.ReadWrite.All'],
  intuneRetire: ['DeviceManagementManagedDevices.PrivilegedOperations.All'],
  entraRead: ['Device.Read.All', 'Device.ReadWrite.All', 'Directory.Read.All'],
  entraWrite: ['Device.ReadWrite.All', 'Directory.ReadWrite.All'],
  /** Reference §2.1: Device.ReadWrite.All is the only application permission for deleting a device. */
  entraDelete: ['Device.ReadWrite.All'],
  /** Reference §2.5: ReadBasic lists keys without their value; only Read.All returns `key`. */
  bitlockerRead: ['BitlockerKey.ReadBasic.All', 'BitlockerKey.Read.All'],
  bitlockerReadKey: ['BitlockerKey.Read.All'],
  autopilotRead: ['DeviceManagementServiceConfig.Read.All', 'DeviceManagementServiceConfig.ReadWrite.All'],
  autopilotWrite: ['DeviceManagementServiceConfig.ReadWrite.All'],
  teamsRead: ['TeamworkDevice.Read.All'],
  machineRead: ['Machine.Read.All', 'Machine.ReadWrite.All'],
  machineOffboard: ['Machine.Offboard'],
  machineActionRead: ['Machine.Read.All', 'Machine.ReadWrite.All', 'Machine.Offboard'],
} as const satisfies Record<string, readonly string[]>

export const GRAPH_PERMISSIONS: readonly string[] = [
  'DeviceManagementManagedDevices.Read.All',
  'DeviceManagementManagedDevices.ReadWrite.All',
  'DeviceManagementManagedDevices.PrivilegedOperations.All',
  'Device.Read.All',
  'Device.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'DeviceManagementServiceConfig.Read.All',
  'DeviceManagementServiceConfig.ReadWrite.All',
  'TeamworkDevice.Read.All',
  'BitlockerKey.ReadBasic.All',
  'BitlockerKey.Read.All',
]

export const DEFENDER_PERMISSIONS: readonly string[] = [
  'Machine.Read.All',
  'Machine.ReadWrite.All',
  'Machine.Offboard',
]

export const ALL_PERMISSIONS: readonly string[] = [...GRAPH_PERMISSIONS, ...DEFENDER_PERMISSIONS]

/** The roles a token for `audience` carries: real tokens hold only the resource's own app roles. */
export function rolesForAudience(roles: readonly string[], audience: string): string[] {
  const own = audience === GRAPH_AUDIENCE ? GRAPH_PERMISSIONS : DEFENDER_PERMISSIONS
  return roles.filter((r) => own.includes(r))
}

/** The simulator's default app registration: every permission, a well-known secret (it is a local test double). */
export const DEFAULT_APP: SimulatorApp = {
  clientId: 'offboard-sim',
  clientSecret: 'offboard-sim-secret',
  roles: [...ALL_PERMISSIONS],
}
