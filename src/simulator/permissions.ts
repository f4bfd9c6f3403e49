/**
 * @module Permissions the simulator enforces, per operation, as in reference §1.1, §2.1, §3.1 and §4.1: application
 * permissions (roles) for app-only tokens, their delegated equivalents (scopes) for user tokens, and the directory
 * roles a signed-in user needs to change `accountEnabled`.
 */
import type { SimulatorApp, SimulatorUser } from './types.js'

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

/**
 * For each application permission, the delegated permissions (scopes) that allow the same operation for a signed-in
 * user. Most Graph permissions share their name; writing a device object is `Directory.AccessAsUser.All` (reference
 * §2.1); Defender's delegated permissions drop the `.All` (reference §4.1).
 */
export const DELEGATED_EQUIVALENTS: Record<string, readonly string[]> = {
  'DeviceManagementManagedDevices.Read.All': ['DeviceManagementManagedDevices.Read.All'],
  'DeviceManagementManagedDevices.ReadWrite.All': ['DeviceManagementManagedDevices.ReadWrite.All'],
  'DeviceManagementManagedDevices.PrivilegedOperations.All': [
    'DeviceManagementManagedDevices.PrivilegedOperations.All',
  ],
  'Device.Read.All': ['Device.Read.All', 'Directory.AccessAsUser.All'],
  'Device.ReadWrite.All': ['Directory.AccessAsUser.All'],
  'Directory.Read.All': ['Directory.Read.All', 'Directory.AccessAsUser.All'],
  'Directory.ReadWrite.All': ['Directory.AccessAsUser.All'],
  'DeviceManagementServiceConfig.Read.All': ['DeviceManagementServiceConfig.Read.All'],
  'DeviceManagementServiceConfig.ReadWrite.All': ['DeviceManagementServiceConfig.ReadWrite.All'],
  'TeamworkDevice.Read.All': ['TeamworkDevice.Read.All'],
  'Machine.Read.All': ['Machine.Read'],
  'Machine.ReadWrite.All': ['Machine.ReadWrite'],
  'Machine.Offboard': ['Machine.Offboard'],
  // Reference §2.5: the same names, delegated and application.
  'BitlockerKey.ReadBasic.All': ['BitlockerKey.ReadBasic.All'],
  'BitlockerKey.Read.All': ['BitlockerKey.Read.All'],
}

/** The delegated scopes that allow what any of `permissions` allows, least privileged first, without repeats. */
export function delegatedEquivalents(permissions: readonly string[]): string[] {
  const out: string[] = []
  for (const p of permissions)
    for (const s of DELEGATED_EQUIVALENTS[p] ?? []) if (!out.includes(s)) out.push(s)
  return out
}

/** Delegated scopes per resource that the simulator's public client is consented for (a user token's `scp`). */
export const DELEGATED_GRAPH_SCOPES: readonly string[] = [
  'BitlockerKey.Read.All',
  'Device.Read.All',
  'DeviceManagementManagedDevices.Read.All',
  'DeviceManagementManagedDevices.ReadWrite.All',
  'DeviceManagementManagedDevices.PrivilegedOperations.All',
  'DeviceManagementServiceConfig.Read.All',
  'DeviceManagementServiceConfig.ReadWrite.All',
  'Directory.AccessAsUser.All',
  'TeamworkDevice.Read.All',
]
export const DELEGATED_DEFENDER_SCOPES: readonly string[] = [
  'Machine.Read',
  'Machine.ReadWrite',
  'Machine.Offboard',
]

/** The scopes a user token for `audience` carries: those of the user's consented scopes that belong to the resource. */
export function scopesForAudience(scopes: readonly string[], audience: string): string[] {
  const own = audience === GRAPH_AUDIENCE ? DELEGATED_GRAPH_SCOPES : DELEGATED_DEFENDER_SCOPES
  return scopes.filter((s) => own.includes(s))
}

/**
 * Directory role template ids, as a user token's `wids` claim carries them. Intune Administrator and Global
 * Administrator from Microsoft's "built-in roles" page; Cloud Device Administrator from reference §2.1.
 */
export const DIRECTORY_ROLE_TEMPLATE_IDS: Record<string, string> = {
  'Cloud Device Administrator': '7698a772-787b-4ac8-901f-60d6b08affd2',
  'Intune Administrator': '3a2c62db-5318-420d-8d74-23affee5d9d5',
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
}

/** Reference §2.1: only these roles may set `accountEnabled` on a device (Cloud Device Administrator at least). */
export const DEVICE_ENABLE_ROLES: readonly string[] = [
  'Cloud Device Administrator',
  'Intune Administrator',
  'Global Administrator',
]

/** Whether a user token's `wids` hold a role that may enable or disable device objects. */
export function mayEnableDevices(wids: readonly string[] | undefined): boolean {
  return DEVICE_ENABLE_ROLES.some((role) => wids?.includes(DIRECTORY_ROLE_TEMPLATE_IDS[role]!))
}

/** Role names to template ids; an unknown name is a mistake in the simulator options, so it throws. */
export function roleTemplateIds(user: SimulatorUser): string[] {
  return (user.directoryRoles ?? []).map((name) => {
    const id = DIRECTORY_ROLE_TEMPLATE_IDS[name]
    if (!id)
      throw new Error(
        `simulator: user ${user.upn} has the unknown directory role "${name}"; known: ${Object.keys(DIRECTORY_ROLE_TEMPLATE_IDS).join(', ')}.`,
      )
    return id
  })
}

/** The simulator's default signed-in user: a Cloud Device Administrator with every delegated scope consented. */
export const DEFAULT_USER: SimulatorUser = {
  upn: 'admin@offboard-sim.example',
  directoryRoles: ['Cloud Device Administrator'],
}
