/** @module Graph reads: Intune managedDevices, Entra devices, Autopilot identities (v1.0 and beta) and Teams devices (beta), with documented paging. */
import { graphError, json } from './errors.js'
import { asV1ManagedDevice, wantsUnknownEnumMembers } from './evolvable-enums.js'
import {
  type Clause,
  clauseSupported,
  type Filter,
  type FilterSupport,
  FilterSyntaxError,
  filterMatches,
  parseFilter,
  parseSelect,
  project,
  queryWithout,
} from './odata.js'
import { PERMISSIONS } from './permissions.js'
import type { RouteContext, RouteDef } from './routing.js'
import type { CollectionName } from './state.js'
import type { PagedCollection, SimResponse } from './types.js'

/** Entra's documented `$top` range for directory objects (reference §2.4). */
export const ENTRA_MAX_TOP = 999
export const DEFAULT_PAGE_SIZE: Record<PagedCollection, number> = {
  managedDevices: 1000,
  devices: 100,
  windowsAutopilotDeviceIdentities: 1000,
  machines: 10_000,
}
const TEAMS_PAGE_SIZE = 100
const DATE_OPS = ['eq', 'ne', 'ge', 'le'] as const

/** How one Graph collection behaves where the services differ. */
export interface GraphCollectionSpec {
  name: CollectionName
  /** URL segment after the version. */
  segment: string
  /** Entity type named in error messages. */
  entityType: string
  /** `$top` above the maximum: Entra answers 400, Intune and Autopilot quietly cap the page (reference §1.3). */
  top: { kind: 'error'; max: number } | { kind: 'cap' }
  pageSize: (ctx: RouteContext) => number
  filter: FilterSupport
  /** Intune silently ignores a filter on an unsupported property and returns everything (reference §0.3). */
  unsupportedFilter: 'ignore' | 'error'
  /** Entra answers 400 for an unknown `$select` property. */
  knownProperties?: ReadonlySet<string>
  codes: { badRequest: string; notFound: string }
  /** `ne` needs `ConsistencyLevel: eventual` and `$count=true` on directory objects (reference §2.4). */
  advancedQueries?: boolean
}

const INTUNE: GraphCollectionSpec = {
  name: 'managedDevices',
  segment: 'deviceManagement/managedDevices',
  entityType: 'microsoft.graph.managedDevice',
  top: { kind: 'cap' },
  pageSize: (ctx) => ctx.sim.pageSize.managedDevices,
  // Operators per property as the v1.0 metadata descriptions document them (reference §1.2).
  filter: {
    ops: {
      id: ['eq'],
      azureADDeviceId: ['eq'],
      deviceName: ['eq'],
      serialNumber: ['eq'],
      imei: ['eq'],
      operatingSystem: ['eq'],
      lastSyncDateTime: ['lt', 'gt'],
      enrolledDateTime: ['lt', 'gt'],
      complianceGracePeriodExpirationDateTime: ['lt', 'gt'],
      managementAgent: ['eq'],
      managementState: ['eq'],
      complianceState: ['eq'],
      exchangeAccessState: ['eq'],
      userPrincipalName: ['eq', 'ne'],
      manufacturer: ['eq'],
      model: ['eq'],
      deviceCategoryDisplayName: ['eq'],
      jailBroken: ['eq'],
    },
    functions: {
      deviceName: ['contains'],
      osVersion: ['contains'],
      emailAddress: ['contains'],
      model: ['contains'],
    },
  },
  unsupportedFilter: 'ignore',
  codes: { badRequest: 'BadRequest', notFound: 'ResourceNotFound' },
}

/** v1.0 `device` properties (reference §2.2 and the CSDL), so `$select` can tell unknown ones apart. */
const ENTRA_PROPERTIES = new Set([
  'id',
  'deletedDateTime',
  'accountEnabled',
  'alternativeSecurityIds',
  'approximateLastSignInDateTime',
  'complianceExpirationDateTime',
  'deviceCategory',
  'deviceId',
  'deviceMetadata',
  'deviceOwnership',
  'deviceVersion',
  'displayName',
  'enrollmentProfileName',
  'enrollmentType',
  'extensionAttributes',
  'isCompliant',
  'isManaged',
  'isManagementRestricted',
  'isRooted',
  'managementType',
  'manufacturer',
  'mdmAppId',
  'model',
  'onPremisesLastSyncDateTime',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'operatingSystem',
  'operatingSystemVersion',
  'physicalIds',
  'profileType',
  'registrationDateTime',
  'systemLabels',
  'trustType',
])

const ENTRA: GraphCollectionSpec = {
  name: 'devices',
  segment: 'devices',
  entityType: 'microsoft.graph.device',
  top: { kind: 'error', max: ENTRA_MAX_TOP },
  pageSize: (ctx) => ctx.sim.pageSize.devices,
  filter: {
    ops: {
      id: ['eq', 'ne'],
      deviceId: ['eq', 'ne'],
      displayName: ['eq', 'ne', 'ge', 'le'],
      accountEnabled: ['eq', 'ne'],
      approximateLastSignInDateTime: DATE_OPS,
      operatingSystem: ['eq', 'ne', 'ge', 'le'],
      operatingSystemVersion: ['eq', 'ne', 'ge', 'le'],
      trustType: ['eq', 'ne'],
      profileType: ['eq', 'ne'],
      isManaged: ['eq', 'ne'],
      isCompliant: ['eq', 'ne'],
      mdmAppId: ['eq', 'ne'],
      onPremisesSyncEnabled: ['eq', 'ne'],
      deviceOwnership: ['eq'],
      enrollmentType: ['eq'],
      managementType: ['eq'],
    },
    functions: {
      deviceId: ['startswith'],
      displayName: ['startswith'],
      operatingSystem: ['startswith'],
      operatingSystemVersion: ['startswith'],
      mdmAppId: ['startswith'],
    },
  },
  unsupportedFilter: 'error',
  knownProperties: ENTRA_PROPERTIES,
  codes: { badRequest: 'Request_BadRequest', notFound: 'Request_ResourceNotFound' },
  advancedQueries: true,
}

const AUTOPILOT: GraphCollectionSpec = {
  name: 'windowsAutopilotDeviceIdentities',
  segment: 'deviceManagement/windowsAutopilotDeviceIdentities',
  entityType: 'microsoft.graph.windowsAutopilotDeviceIdentity',
  top: { kind: 'cap' },
  pageSize: (ctx) => ctx.sim.pageSize.windowsAutopilotDeviceIdentities,
  filter: {
    ops: {
      id: ['eq'],
      serialNumber: ['eq'],
      groupTag: ['eq'],
      enrollmentState: ['eq'],
      azureActiveDirectoryDeviceId: ['eq'],
      managedDeviceId: ['eq'],
      userPrincipalName: ['eq'],
    },
    // Serial lookups commonly use contains(serialNumber,'…') (reference §3.1).
    functions: { serialNumber: ['contains', 'startswith'], groupTag: ['startswith'] },
  },
  unsupportedFilter: 'error',
  codes: { badRequest: 'BadRequest', notFound: 'ResourceNotFound' },
}

const TEAMS: GraphCollectionSpec = {
  name: 'teamworkDevices',
  segment: 'teamwork/devices',
  entityType: 'microsoft.graph.teamworkDevice',
  top: { kind: 'cap' },
  pageSize: () => TEAMS_PAGE_SIZE,
  filter: {
    ops: {
      id: ['eq'],
      deviceType: ['eq'],
      healthStatus: ['eq'],
      activityState: ['eq'],
      'hardwareDetail/serialNumber': ['eq'],
    },
  },
  unsupportedFilter: 'error',
  codes: { badRequest: 'BadRequest', notFound: 'NotFound' },
}

export const GRAPH_COLLECTIONS = { intune: INTUNE, entra: ENTRA, autopilot: AUTOPILOT, teams: TEAMS } as const

function contextUrl(
  ctx: RouteContext,
  spec: GraphCollectionSpec,
  select: readonly string[],
  entity = false,
): string {
  const sel = select.length ? `(${['id', ...select.filter((s) => s !== 'id')].join(',')})` : ''
  return `${ctx.sim.baseUrl()}/${ctx.version}/$metadata#${spec.segment}${sel}${entity ? '/$entity' : ''}`
}

type Parsed<T> = { ok: true; value: T } | { ok: false; response: SimResponse }

function badRequest(spec: GraphCollectionSpec, message: string): { ok: false; response: SimResponse } {
  return { ok: false, response: graphError(400, spec.codes.badRequest, message) }
}

function checkSelect(spec: GraphCollectionSpec, raw: string | null): Parsed<string[]> {
  const select = parseSelect(raw)
  if (spec.knownProperties) {
    const unknown = select.find((p) => !spec.knownProperties!.has(p))
    if (unknown)
      return badRequest(spec, `Could not find a property named '${unknown}' on type '${spec.entityType}'.`)
  }
  return { ok: true, value: select }
}

function checkFilter(ctx: RouteContext, spec: GraphCollectionSpec): Parsed<Filter | null> {
  const raw = ctx.req.query.get('$filter')
  if (raw === null || raw.trim() === '') return { ok: true, value: null }
  let filter: Filter
  try {
    filter = parseFilter(raw)
  } catch (err) {
    const why = err instanceof FilterSyntaxError ? err.message : String(err)
    return badRequest(spec, `Invalid filter clause: ${why}.`)
  }
  const kept: Filter = []
  for (const group of filter) {
    const clauses: Clause[] = []
    for (const clause of group) {
      if (clauseSupported(clause, spec.filter)) {
        clauses.push(clause)
        continue
      }
      if (spec.unsupportedFilter === 'error') {
        const resource = spec.entityType.split('.').pop()!
        return badRequest(
          spec,
          `Unsupported or invalid query filter clause specified for property '${clause.prop}' of resource '${resource}'.`,
        )
      }
      // Intune: the clause is dropped as if it had not been sent.
    }
    kept.push(clauses)
  }
  if (spec.advancedQueries && kept.flat().some((c) => c.kind === 'compare' && c.op === 'ne')) {
    const eventual = ctx.req.headers.consistencylevel?.toLowerCase() === 'eventual'
    if (!eventual || ctx.req.query.get('$count') !== 'true') {
      return {
        ok: false,
        response: graphError(
          400,
          'Request_UnsupportedQuery',
          "Unsupported Query. 'ne' needs ConsistencyLevel: eventual and $count=true.",
        ),
      }
    }
  }
  return { ok: true, value: kept }
}

function checkTop(ctx: RouteContext, spec: GraphCollectionSpec): Parsed<number> {
  const raw = ctx.req.query.get('$top')
  const serverPage = spec.pageSize(ctx)
  if (raw === null) return { ok: true, value: serverPage }
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1)
    return badRequest(spec, `Invalid page size specified: '${raw}'. Must be a positive whole number.`)
  const top = Number(raw)
  if (spec.top.kind === 'error') {
    if (top > spec.top.max)
      return badRequest(
        spec,
        `Invalid page size specified: '${top}'. Must be between 1 and ${spec.top.max} inclusive.`,
      )
    return { ok: true, value: top }
  }
  return { ok: true, value: Math.min(top, serverPage) }
}

/** Lists a collection one page at a time; `@odata.nextLink` carries the other options and an opaque `$skiptoken`. */
function listCollection(ctx: RouteContext, spec: GraphCollectionSpec): SimResponse {
  const { req, sim } = ctx
  if (spec.name === 'devices' && req.query.has('$skip'))
    return graphError(400, spec.codes.badRequest, "'$skip' is not supported by the service.")
  const top = checkTop(ctx, spec)
  if (!top.ok) return top.response
  const select = checkSelect(spec, req.query.get('$select'))
  if (!select.ok) return select.response
  const filter = checkFilter(ctx, spec)
  if (!filter.ok) return filter.response

  let cursor = { after: 0, page: 1 }
  const token = req.query.get('$skiptoken')
  if (token !== null) {
    const decoded = sim.skipTokens.decode(token)
    if (!decoded) return graphError(400, spec.codes.badRequest, 'The $skiptoken is invalid or has expired.')
    cursor = decoded
  }
  const filterValue = filter.value
  const match = filterValue ? (r: Record<string, unknown>) => filterMatches(r, filterValue) : () => true
  const collection = sim.state.collections[spec.name]
  const { items, more } = collection.page(cursor.after, top.value, match)

  const others = queryWithout(req.rawQuery, ['$skiptoken'])
  const base = `${sim.baseUrl()}${req.path}`
  let nextLink: string | undefined
  if (more) {
    const next = sim.skipTokens.encode({ after: items[items.length - 1]!.seq, page: cursor.page + 1 })
    nextLink = `${base}?${[...others, `$skiptoken=${next}`].join('&')}`
  }
  // Fault: the second page points back at the first, so a client that does not notice loops forever.
  if (sim.faults.nextLinkLoop && cursor.page === 2)
    nextLink = others.length ? `${base}?${others.join('&')}` : base

  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, spec, select.value) }
  const counted =
    req.headers.consistencylevel?.toLowerCase() === 'eventual' && req.query.get('$count') === 'true'
  if (counted && cursor.page === 1) body['@odata.count'] = collection.filter(match).length
  if (nextLink) body['@odata.nextLink'] = nextLink
  body.value = items.map((e) => project(v1View(ctx, spec, e.rec), select.value))
  return json(200, body)
}

function notFound(spec: GraphCollectionSpec, id: string): SimResponse {
  return spec.codes.notFound === 'Request_ResourceNotFound'
    ? graphError(
        404,
        spec.codes.notFound,
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      )
    : graphError(404, spec.codes.notFound, `Resource not found: ${spec.entityType.split('.').pop()} '${id}'.`)
}

export function findOr404(
  ctx: RouteContext,
  spec: GraphCollectionSpec,
): { ok: true; rec: Record<string, unknown> } | { ok: false; response: SimResponse } {
  const id = ctx.params.id!
  const rec = ctx.sim.state.collections[spec.name].get(id)
  return rec ? { ok: true, rec } : { ok: false, response: notFound(spec, id) }
}

function getById(ctx: RouteContext, spec: GraphCollectionSpec): SimResponse {
  const select = checkSelect(spec, ctx.req.query.get('$select'))
  if (!select.ok) return select.response
  const found = findOr404(ctx, spec)
  if (!found.ok) return found.response
  return json(200, {
    '@odata.context': contextUrl(ctx, spec, select.value, true),
    ...project(v1View(ctx, spec, found.rec), select.value),
  })
}

/** Intune records as a v1.0 client sees them: beta-only enum members become `unknownFutureValue` unless asked for. */
function v1View(
  ctx: RouteContext,
  spec: GraphCollectionSpec,
  rec: Record<string, unknown>,
): Record<string, unknown> {
  if (spec.name !== 'managedDevices' || !ctx.req.path.startsWith('/v1.0/')) return rec
  return wantsUnknownEnumMembers(ctx.req.headers.prefer) ? rec : asV1ManagedDevice(rec)
}

function readRoutes(
  spec: GraphCollectionSpec,
  permissions: readonly string[],
  versions?: RouteDef['versions'],
): RouteDef[] {
  const extra = versions ? { versions } : {}
  return [
    {
      method: 'GET',
      path: `/${spec.segment}`,
      api: 'graph',
      permissions,
      ...extra,
      handle: (ctx) => listCollection(ctx, spec),
    },
    {
      method: 'GET',
      path: `/${spec.segment}/:id`,
      api: 'graph',
      permissions,
      ...extra,
      handle: (ctx) => getById(ctx, spec),
    },
  ]
}

export const graphReadRoutes: RouteDef[] = [
  ...readRoutes(INTUNE, PERMISSIONS.intuneRead),
  ...readRoutes(ENTRA, PERMISSIONS.entraRead),
  ...readRoutes(AUTOPILOT, PERMISSIONS.autopilotRead),
  // The Teams devices inventory exists in beta only (reference §1.5).
  ...readRoutes(TEAMS, PERMISSIONS.teamsRead, ['beta']),
]
