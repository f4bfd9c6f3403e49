/**
 * @module BitLocker recovery keys (`/informationProtection/bitlocker/recoveryKeys`, list and get) and Entra device
 * delete, which removes the keys stored on the object (reference §2.5: "deletes the BitLocker recovery keys").
 */
import { graphError, json, noContent } from './errors.js'
import { findOr404, GRAPH_COLLECTIONS } from './graph-devices.js'
import {
  clauseSupported,
  type FilterSupport,
  FilterSyntaxError,
  filterMatches,
  parseFilter,
  parseSelect,
  project,
  queryWithout,
} from './odata.js'
import { PERMISSIONS } from './permissions.js'
import { missingPermission, type RouteContext, type RouteDef } from './routing.js'
import type { SimResponse } from './types.js'

/** The list's page size: the docs name none and only say a nextLink may come; small enough to exercise paging. */
export const RECOVERY_KEYS_PAGE_SIZE = 100
/** "This method supports the $filter OData query parameter to filter results by the deviceId" (bitlocker-list-recoverykeys). */
const FILTER_SUPPORT: FilterSupport = { ops: { deviceId: ['eq'] } }
const KEY_PROPERTIES = new Set(['id', 'createdDateTime', 'volumeType', 'deviceId', 'key'])
const SEGMENT = 'informationProtection/bitlocker/recoveryKeys'

function contextUrl(ctx: RouteContext, entity: boolean): string {
  return `${ctx.sim.baseUrl()}/${ctx.version}/$metadata#${SEGMENT}${entity ? '/$entity' : ''}`
}

/** The key value is never listed, and on a get only with `$select=key` (bitlockerRecoveryKey resource). */
function withoutKey(rec: Record<string, unknown>): Record<string, unknown> {
  const { key: _key, ...rest } = rec
  return rest
}

function checkSelect(
  raw: string | null,
): { ok: true; value: string[] } | { ok: false; response: SimResponse } {
  const select = parseSelect(raw)
  const unknown = select.find((p) => !KEY_PROPERTIES.has(p))
  if (unknown)
    return {
      ok: false,
      response: graphError(
        400,
        'BadRequest',
        `Could not find a property named '${unknown}' on type 'microsoft.graph.bitlockerRecoveryKey'.`,
      ),
    }
  return { ok: true, value: select }
}

function listKeys(ctx: RouteContext): SimResponse {
  const { req, sim } = ctx
  const select = checkSelect(req.query.get('$select'))
  if (!select.ok) return select.response
  if (select.value.includes('key'))
    return graphError(400, 'BadRequest', "The 'key' property can only be selected when getting one key.")
  const raw = req.query.get('$filter')
  let match: (r: Record<string, unknown>) => boolean = () => true
  if (raw !== null && raw.trim() !== '') {
    try {
      const filter = parseFilter(raw)
      if (filter.flat().some((c) => !clauseSupported(c, FILTER_SUPPORT)))
        return graphError(400, 'BadRequest', 'Only deviceId eq is supported in $filter on recoveryKeys.')
      match = (r) => filterMatches(r, filter)
    } catch (err) {
      const why = err instanceof FilterSyntaxError ? err.message : String(err)
      return graphError(400, 'BadRequest', `Invalid filter clause: ${why}.`)
    }
  }
  // "This method does not support $top" (bitlocker-list-recoverykeys); the service's answer to it is not documented.
  if (req.query.has('$top'))
    return graphError(400, 'BadRequest', "The query parameter '$top' is not supported on recoveryKeys.")
  let cursor = { after: 0, page: 1 }
  const token = req.query.get('$skiptoken')
  if (token !== null) {
    const decoded = sim.skipTokens.decode(token)
    if (!decoded) return graphError(400, 'BadRequest', 'The $skiptoken is invalid or has expired.')
    cursor = decoded
  }
  const { items, more } = sim.state.bitlockerRecoveryKeys.page(cursor.after, RECOVERY_KEYS_PAGE_SIZE, match)
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, false) }
  if (more) {
    const next = sim.skipTokens.encode({ after: items[items.length - 1]!.seq, page: cursor.page + 1 })
    const others = queryWithout(req.rawQuery, ['$skiptoken'])
    body['@odata.nextLink'] = `${sim.baseUrl()}${req.path}?${[...others, `$skiptoken=${next}`].join('&')}`
  }
  body.value = items.map((e) => project(withoutKey(e.rec), select.value))
  return json(200, body)
}

function getKey(ctx: RouteContext): SimResponse {
  const select = checkSelect(ctx.req.query.get('$select'))
  if (!select.ok) return select.response
  const rec = ctx.sim.state.bitlockerRecoveryKeys.get(ctx.params.id!)
  if (!rec) return graphError(404, 'NotFound', `BitLocker recovery key '${ctx.params.id}' was not found.`)
  const wantsKey = select.value.includes('key')
  if (wantsKey && missingPermission(PERMISSIONS.bitlockerReadKey, ctx.claims) !== null)
    return graphError(
      403,
      'Authorization_RequestDenied',
      `Insufficient privileges to complete the operation. Reading the key needs ${PERMISSIONS.bitlockerReadKey[0]}.`,
    )
  return json(200, {
    '@odata.context': contextUrl(ctx, true),
    ...project(wantsKey ? rec : withoutKey(rec), select.value),
  })
}

/** `DELETE /devices/{id}`: the object and the recovery keys backed up from it go (reference §2.5). */
function deleteDevice(ctx: RouteContext): SimResponse {
  const found = findOr404(ctx, GRAPH_COLLECTIONS.entra)
  if (!found.ok) return found.response
  const deviceId = typeof found.rec.deviceId === 'string' ? found.rec.deviceId.toLowerCase() : null
  ctx.sim.state.collections.devices.remove(ctx.params.id!)
  if (deviceId) {
    const keys = ctx.sim.state.bitlockerRecoveryKeys
    for (const k of keys.filter(
      (r) => typeof r.deviceId === 'string' && r.deviceId.toLowerCase() === deviceId,
    ))
      keys.remove(String(k.id))
  }
  return noContent()
}

export const bitlockerRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: `/${SEGMENT}`,
    api: 'graph',
    permissions: PERMISSIONS.bitlockerRead,
    handle: listKeys,
  },
  {
    method: 'GET',
    path: `/${SEGMENT}/:id`,
    api: 'graph',
    permissions: PERMISSIONS.bitlockerRead,
    handle: getKey,
  },
  {
    method: 'DELETE',
    path: '/devices/:id',
    api: 'graph',
    permissions: PERMISSIONS.entraDelete,
    handle: deleteDevice,
  },
]
