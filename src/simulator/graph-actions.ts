/** @module Graph mutations: Entra disable (PATCH), Intune delete and retire, Autopilot deregister and unassign user. */
import { graphError, json, noContent } from './errors.js'
import { findOr404, GRAPH_COLLECTIONS } from './graph-devices.js'
import { mayEnableDevices, PERMISSIONS } from './permissions.js'
import type { RouteContext, RouteDef } from './routing.js'
import type { SimResponse } from './types.js'

const { intune: INTUNE, entra: ENTRA, autopilot: AUTOPILOT } = GRAPH_COLLECTIONS
const UPDATABLE_DEVICE_PROPERTIES = new Set(['accountEnabled', 'extensionAttributes'])
const EXTENSION_ATTRIBUTE = /^extensionAttribute([1-9]|1[0-5])$/

function insufficientPrivileges(): SimResponse {
  return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
}

/**
 * `PATCH /devices/{id}`. App-only callers may change only `extensionAttributes` on non-Windows devices, and
 * nothing on Linux ones (reference §2.1, §0.6), so disabling an iOS/Android/macOS object answers 403. A signed-in
 * user may set `accountEnabled` on any device, Linux included, only with the Cloud Device Administrator, Intune
 * Administrator (or Global Administrator) role in the token's `wids`; Graph's 403 names no role either way.
 */
function patchDevice(ctx: RouteContext): SimResponse {
  const found = findOr404(ctx, ENTRA)
  if (!found.ok) return found.response
  const raw = ctx.req.body
  if (raw === undefined || raw.trim() === '')
    return graphError(400, 'Request_BadRequest', 'Empty Payload. JSON content expected.')
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch {
    return graphError(400, 'Request_BadRequest', 'Invalid JSON in the request body.')
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return graphError(400, 'Request_BadRequest', 'The request body must be a JSON object.')
  const patch = body as Record<string, unknown>
  for (const key of Object.keys(patch)) {
    if (!UPDATABLE_DEVICE_PROPERTIES.has(key)) {
      return graphError(
        400,
        'Request_BadRequest',
        `Property '${key}' cannot be updated here: the simulator accepts accountEnabled and extensionAttributes.`,
      )
    }
  }
  if ('accountEnabled' in patch && typeof patch.accountEnabled !== 'boolean')
    return graphError(
      400,
      'Request_BadRequest',
      "Invalid value specified for property 'accountEnabled' of resource 'Device'.",
    )
  const ext = patch.extensionAttributes
  if (ext !== undefined) {
    if (!ext || typeof ext !== 'object' || Array.isArray(ext))
      return graphError(
        400,
        'Request_BadRequest',
        "Invalid value specified for property 'extensionAttributes' of resource 'Device'.",
      )
    for (const [k, v] of Object.entries(ext)) {
      if (!EXTENSION_ATTRIBUTE.test(k) || (v !== null && typeof v !== 'string'))
        return graphError(
          400,
          'Request_BadRequest',
          `Invalid value specified for property 'extensionAttributes.${k}'.`,
        )
    }
  }
  if (ctx.claims.idtyp === 'user') {
    if ('accountEnabled' in patch && !mayEnableDevices(ctx.claims.wids)) return insufficientPrivileges()
  } else {
    const os = typeof found.rec.operatingSystem === 'string' ? found.rec.operatingSystem.toLowerCase() : ''
    if (os === 'linux') return insufficientPrivileges()
    if (!os.startsWith('windows') && 'accountEnabled' in patch) return insufficientPrivileges()
  }

  if (typeof patch.accountEnabled === 'boolean') found.rec.accountEnabled = patch.accountEnabled
  if (ext) {
    const current = (found.rec.extensionAttributes ?? {}) as Record<string, unknown>
    found.rec.extensionAttributes = { ...current, ...(ext as Record<string, unknown>) }
  }
  return noContent()
}

function deleteManagedDevice(ctx: RouteContext): SimResponse {
  const found = findOr404(ctx, INTUNE)
  if (!found.ok) return found.response
  ctx.sim.state.deleteManagedDevice(ctx.params.id!)
  return noContent()
}

function retireManagedDevice(ctx: RouteContext): SimResponse {
  const found = findOr404(ctx, INTUNE)
  if (!found.ok) return found.response
  found.rec.managementState = 'retirePending'
  return noContent()
}

/** Deregistration is asynchronous (reference §6.3): with a delay the identity stays listed for a while, and the call answers 200. */
function deleteAutopilotIdentity(ctx: RouteContext): SimResponse {
  const found = findOr404(ctx, AUTOPILOT)
  if (!found.ok) return found.response
  ctx.sim.state.deleteAutopilot(ctx.params.id!)
  return ctx.sim.state.autopilotDeleteIsAsync ? json(200, undefined) : noContent()
}

function unassignUser(ctx: RouteContext): SimResponse {
  const found = findOr404(ctx, AUTOPILOT)
  if (!found.ok) return found.response
  found.rec.userPrincipalName = ''
  return noContent()
}

export const graphActionRoutes: RouteDef[] = [
  {
    method: 'PATCH',
    path: '/devices/:id',
    api: 'graph',
    permissions: PERMISSIONS.entraWrite,
    handle: patchDevice,
  },
  {
    method: 'DELETE',
    path: '/deviceManagement/managedDevices/:id',
    api: 'graph',
    permissions: PERMISSIONS.intuneDelete,
    handle: deleteManagedDevice,
  },
  {
    method: 'POST',
    path: '/deviceManagement/managedDevices/:id/retire',
    api: 'graph',
    permissions: PERMISSIONS.intuneRetire,
    handle: retireManagedDevice,
  },
  {
    method: 'DELETE',
    path: '/deviceManagement/windowsAutopilotDeviceIdentities/:id',
    api: 'graph',
    permissions: PERMISSIONS.autopilotWrite,
    handle: deleteAutopilotIdentity,
  },
  {
    method: 'POST',
    path: '/deviceManagement/windowsAutopilotDeviceIdentities/:id/unassignUserFromDevice',
    api: 'graph',
    permissions: PERMISSIONS.autopilotWrite,
    handle: unassignUser,
  },
]
