/** @module Defender for Endpoint API: machines (list, get, offboard), MachineActions, and the per-app 100/min and 1,500/h limits (reference §4). */
import { randomUUID } from 'node:crypto'
import { defenderError, json } from './errors.js'
import {
  clauseSupported,
  type Filter,
  type FilterSupport,
  FilterSyntaxError,
  filterMatches,
  parseFilter,
  queryWithout,
} from './odata.js'
import { PERMISSIONS } from './permissions.js'
import type { RouteContext, RouteDef } from './routing.js'
import type { MachineAction, Rec } from './state.js'
import type { SimResponse } from './types.js'

/** `$top` maximum on machines and machineactions (reference §4.3, §4.5). */
export const DEFENDER_MAX_TOP = 10_000
export const DEFAULT_DEFENDER_LIMITS = { perMinute: 100, perHour: 1500 }
const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000
/** Offboarding is supported on Windows only: macOS and Linux need local scripts, mobile the app removed (reference §4.4). */
const OFFBOARD_PLATFORM = /^windows/i

/** Sliding-window limits per app; refused calls do not count. */
export class DefenderRateLimiter {
  private readonly stamps = new Map<string, number[]>()

  constructor(
    private readonly limits: { perMinute: number; perHour: number },
    private readonly clock: () => number,
  ) {}

  admit(appId: string): { ok: true } | { ok: false; retryAfterS: number } {
    const now = this.clock()
    const stamps = (this.stamps.get(appId) ?? []).filter((t) => t > now - HOUR_MS)
    this.stamps.set(appId, stamps)
    const lastMinute = stamps.filter((t) => t > now - MINUTE_MS)
    let freeAt = 0
    // A slot frees when the call `limit` places back leaves its window.
    if (lastMinute.length >= this.limits.perMinute)
      freeAt = Math.max(freeAt, lastMinute[lastMinute.length - this.limits.perMinute]! + MINUTE_MS)
    if (stamps.length >= this.limits.perHour)
      freeAt = Math.max(freeAt, stamps[stamps.length - this.limits.perHour]! + HOUR_MS)
    if (freeAt > 0) return { ok: false, retryAfterS: Math.max(1, Math.ceil((freeAt - now) / 1000)) }
    stamps.push(now)
    return { ok: true }
  }
}

const MACHINE_FILTER: FilterSupport = {
  ops: {
    id: ['eq'],
    computerDnsName: ['eq'],
    aadDeviceId: ['eq'],
    healthStatus: ['eq', 'ne'],
    onboardingStatus: ['eq', 'ne'],
    osPlatform: ['eq', 'ne'],
    riskScore: ['eq'],
    exposureLevel: ['eq'],
    deviceValue: ['eq'],
    rbacGroupId: ['eq'],
    lastIpAddress: ['eq'],
    version: ['eq'],
    machineTags: ['eq'],
    lastSeen: ['gt', 'ge', 'lt', 'le'],
  },
  functions: { computerDnsName: ['startswith'] },
}

const ACTION_FILTER: FilterSupport = {
  ops: {
    id: ['eq'],
    status: ['eq', 'ne'],
    machineId: ['eq'],
    type: ['eq'],
    requestor: ['eq'],
    creationDateTimeUtc: ['gt', 'ge', 'lt', 'le'],
  },
}

function odataError(message: string): SimResponse {
  return defenderError(400, 'ODataError', message)
}

/**
 * Lists with `$top` as the page size and `$skip`; when records remain, `@odata.nextLink` carries the next `$skip`
 * (the docs only describe `$skip`, reference §4.3).
 */
function listPage(
  ctx: RouteContext,
  all: (match: (r: Rec) => boolean) => Rec[],
  support: FilterSupport,
  entitySet: string,
  defaultTop: number,
): SimResponse {
  const { req, sim } = ctx
  const rawTop = req.query.get('$top')
  const rawSkip = req.query.get('$skip')
  if (rawTop !== null && (!/^\d+$/.test(rawTop) || Number(rawTop) < 1))
    return odataError(`Invalid value '${rawTop}' for $top.`)
  if (rawSkip !== null && !/^\d+$/.test(rawSkip)) return odataError(`Invalid value '${rawSkip}' for $skip.`)
  const top = rawTop === null ? defaultTop : Number(rawTop)
  if (top > DEFENDER_MAX_TOP)
    return odataError(
      `The limit of '${DEFENDER_MAX_TOP}' for Top query has been exceeded. The value from the incoming request is '${top}'.`,
    )
  const skip = rawSkip === null ? 0 : Number(rawSkip)
  let filter: Filter | null = null
  const rawFilter = req.query.get('$filter')
  if (rawFilter !== null && rawFilter.trim() !== '') {
    try {
      filter = parseFilter(rawFilter)
    } catch (err) {
      return odataError(`Invalid $filter: ${err instanceof FilterSyntaxError ? err.message : String(err)}.`)
    }
    const bad = filter.flat().find((c) => !clauseSupported(c, support))
    if (bad)
      return odataError(
        `The query specified in the URI is not valid. Filtering on '${bad.prop}' with this operator is not supported.`,
      )
  }
  const f = filter
  const matching = all(f ? (r) => filterMatches(r, f) : () => true)
  const value = matching.slice(skip, skip + top)
  const body: Record<string, unknown> = { '@odata.context': `${sim.baseUrl()}/api/$metadata#${entitySet}` }
  const page = Math.floor(skip / top) + 1
  const others = queryWithout(req.rawQuery, ['$skip', '$top'])
  const link = (s: number): string => {
    const parts = [...others, `$top=${top}`, ...(s > 0 ? [`$skip=${s}`] : [])]
    return `${sim.baseUrl()}${req.path}?${parts.join('&')}`
  }
  if (skip + top < matching.length) body['@odata.nextLink'] = link(skip + top)
  // Fault: the second page points back at the first.
  if (sim.faults.nextLinkLoop && page === 2) body['@odata.nextLink'] = link(0)
  body.value = value
  return json(200, body)
}

function findMachine(ctx: RouteContext): Rec | undefined {
  const id = ctx.params.id!
  const machines = ctx.sim.state.collections.machines
  // The get-machine API accepts a device id or a computer name (reference §4.3).
  return (
    machines.get(id) ??
    machines
      .all()
      .find(
        (m) => typeof m.computerDnsName === 'string' && m.computerDnsName.toLowerCase() === id.toLowerCase(),
      )
  )
}

function machineNotFound(id: string): SimResponse {
  return defenderError(404, 'ResourceNotFound', `Machine ${id} was not found`)
}

function getMachine(ctx: RouteContext): SimResponse {
  const machine = findMachine(ctx)
  if (!machine) return machineNotFound(ctx.params.id!)
  return json(200, { '@odata.context': `${ctx.sim.baseUrl()}/api/$metadata#Machines/$entity`, ...machine })
}

/** `POST /api/machines/{id}/offboard` with `{"Comment": "…"}`; parameter names are case-sensitive (reference §4.4, §4.6). */
function offboardMachine(ctx: RouteContext): SimResponse {
  const { sim, req } = ctx
  const machine = findMachine(ctx)
  if (!machine) return machineNotFound(ctx.params.id!)
  let body: unknown
  try {
    body = req.body === undefined || req.body.trim() === '' ? undefined : JSON.parse(req.body)
  } catch {
    body = undefined
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return defenderError(
      400,
      'InvalidRequestBody',
      'Request body is incorrect. Expected a JSON object with "Comment".',
    )
  const comment = (body as Rec).Comment
  if (comment === undefined || comment === null)
    return defenderError(400, 'MissingRequiredParameter', 'Parameter Comment is missing')
  if (typeof comment !== 'string' || comment.trim() === '')
    return defenderError(
      400,
      'InvalidRequestBody',
      'Request body is incorrect. "Comment" must be a non-empty string.',
    )
  const platform = typeof machine.osPlatform === 'string' ? machine.osPlatform : 'Unknown'
  if (!OFFBOARD_PLATFORM.test(platform))
    return defenderError(400, 'OsPlatformNotSupported', `${platform} is not supported for this action.`)
  const machineId = String(machine.id)
  const busy = sim.state.machineActions.some(
    (a) =>
      a.machineId === machineId &&
      a.type === 'Offboard' &&
      ['Pending', 'InProgress', 'Succeeded'].includes(a.status),
  )
  if (busy || machine.onboardingStatus === 'Offboarded')
    return defenderError(400, 'BadRequest', 'Action is already in progress or completed')
  const now = new Date(sim.state.now()).toISOString()
  const action: MachineAction = {
    id: randomUUID(),
    type: 'Offboard',
    scope: null,
    requestor: ctx.claims.appid,
    requestorComment: comment,
    requestSource: 'PublicApi',
    status: 'Pending',
    machineId,
    computerDnsName: typeof machine.computerDnsName === 'string' ? machine.computerDnsName : null,
    creationDateTimeUtc: now,
    lastUpdateDateTimeUtc: now,
    cancellationRequestor: null,
    cancellationComment: null,
    cancellationDateTimeUtc: null,
    errorHResult: 0,
    title: null,
    externalID: null,
    commands: [],
    relatedFileInfo: null,
  }
  sim.state.addMachineAction(action)
  return json(201, { '@odata.context': `${sim.baseUrl()}/api/$metadata#MachineActions/$entity`, ...action })
}

function getMachineAction(ctx: RouteContext): SimResponse {
  const id = ctx.params.id!.toLowerCase()
  const action = ctx.sim.state.machineActions.find((a) => a.id === id)
  if (!action) return defenderError(404, 'ResourceNotFound', `MachineAction ${ctx.params.id} was not found`)
  return json(200, {
    '@odata.context': `${ctx.sim.baseUrl()}/api/$metadata#MachineActions/$entity`,
    ...action,
  })
}

export const defenderRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/api/machines',
    api: 'defender',
    permissions: PERMISSIONS.machineRead,
    handle: (ctx) =>
      listPage(
        ctx,
        (m) => ctx.sim.state.collections.machines.filter(m),
        MACHINE_FILTER,
        'Machines',
        ctx.sim.pageSize.machines,
      ),
  },
  {
    method: 'GET',
    path: '/api/machines/:id',
    api: 'defender',
    permissions: PERMISSIONS.machineRead,
    handle: getMachine,
  },
  {
    method: 'POST',
    path: '/api/machines/:id/offboard',
    api: 'defender',
    permissions: PERMISSIONS.machineOffboard,
    handle: offboardMachine,
  },
  {
    method: 'GET',
    path: '/api/machineactions',
    api: 'defender',
    permissions: PERMISSIONS.machineActionRead,
    handle: (ctx) =>
      listPage(
        ctx,
        (m) => ctx.sim.state.machineActions.filter(m),
        ACTION_FILTER,
        'MachineActions',
        DEFENDER_MAX_TOP,
      ),
  },
  {
    method: 'GET',
    path: '/api/machineactions/:id',
    api: 'defender',
    permissions: PERMISSIONS.machineActionRead,
    handle: getMachineAction,
  },
]
