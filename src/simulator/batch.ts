/** @module Graph JSON batching: ≤ 20 items, unique ids, Content-Type with a body, dependsOn → 424, each item through the normal pipeline (reference §5). */
import { graphError, json } from './errors.js'
import {
  authenticate,
  type BoundRoute,
  execute,
  type GraphVersion,
  matchRoute,
  type SimContext,
} from './routing.js'
import type { TokenClaims } from './token.js'
import type { SimRequest, SimResponse } from './types.js'

export const MAX_BATCH_REQUESTS = 20

interface BatchItem {
  id: string
  method: string
  url: string
  headers: Record<string, string>
  body: unknown
  dependsOn: string[]
}

interface BatchItemResponse {
  id: string
  status: number
  headers: Record<string, string>
  body?: unknown
}

function invalid(message: string): SimResponse {
  return graphError(400, 'BadRequest', message)
}

function parseItems(raw: string | undefined): BatchItem[] | SimResponse {
  let doc: unknown
  try {
    doc = raw ? JSON.parse(raw) : undefined
  } catch {
    return invalid('Invalid batch payload format.')
  }
  const requests = (doc as { requests?: unknown } | undefined)?.requests
  if (!Array.isArray(requests) || requests.length === 0) return invalid('Invalid batch payload format.')
  if (requests.length > MAX_BATCH_REQUESTS)
    return invalid(`Number of batch request steps exceeds the maximum of ${MAX_BATCH_REQUESTS}.`)
  const items: BatchItem[] = []
  const ids = new Set<string>()
  for (const r of requests as Record<string, unknown>[]) {
    if (!r || typeof r !== 'object') return invalid('Invalid batch payload format.')
    const id = typeof r.id === 'number' ? String(r.id) : r.id
    if (typeof id !== 'string' || id === '' || typeof r.method !== 'string' || typeof r.url !== 'string')
      return invalid('Invalid batch payload format: every request needs id, method and url.')
    if (ids.has(id)) return invalid(`Batch request id '${id}' is duplicated; ids must be unique.`)
    ids.add(id)
    const headers: Record<string, string> = {}
    if (r.headers && typeof r.headers === 'object')
      for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v
    if (r.body !== undefined && r.body !== null && !headers['content-type'])
      return invalid(`Write request id : ${id} does not contain Content-Type header or body.`)
    const dependsOn = Array.isArray(r.dependsOn) ? r.dependsOn.map(String) : []
    items.push({ id, method: r.method.toUpperCase(), url: r.url, headers, body: r.body, dependsOn })
  }
  for (const item of items) {
    for (const dep of item.dependsOn) {
      if (!ids.has(dep) || dep === item.id)
        return invalid(
          `Request id '${item.id}' depends on '${dep}', which is not another request of this batch.`,
        )
    }
  }
  return items
}

/** Items in an order where each comes after what it depends on; undefined for a cycle. */
function executionOrder(items: readonly BatchItem[]): BatchItem[] | undefined {
  const done = new Set<string>()
  const order: BatchItem[] = []
  while (order.length < items.length) {
    const ready = items.find((i) => !done.has(i.id) && i.dependsOn.every((d) => done.has(d)))
    if (!ready) return undefined
    done.add(ready.id)
    order.push(ready)
  }
  return order
}

async function runItem(
  item: BatchItem,
  version: GraphVersion,
  outer: SimRequest,
  routes: readonly BoundRoute[],
  sim: SimContext,
  claims: TokenClaims,
): Promise<SimResponse> {
  if (/^https?:/i.test(item.url))
    return invalid('Batch request URLs must be relative to the version, e.g. /devices/{id}.')
  const relative = item.url.startsWith('/') ? item.url : `/${item.url}`
  const q = relative.indexOf('?')
  const path = `/${version}${q < 0 ? relative : relative.slice(0, q)}`
  const rawQuery = q < 0 ? '' : relative.slice(q + 1)
  const matched = matchRoute(routes, item.method, path)
  if (!matched) return invalid(`Resource not found for the segment '${path.split('/').pop()}'.`)
  const body =
    item.body === undefined || item.body === null
      ? undefined
      : typeof item.body === 'string'
        ? item.body
        : JSON.stringify(item.body)
  const req: SimRequest = {
    method: item.method,
    path,
    query: new URLSearchParams(rawQuery),
    rawQuery,
    headers: { ...item.headers, authorization: outer.headers.authorization },
    body,
  }
  return execute(matched.route, matched.params, req, sim, { claims })
}

/** `POST /{version}/$batch`: answers 200 with one response per item, or 400 when the envelope is malformed. */
export async function handleBatch(
  req: SimRequest,
  version: GraphVersion,
  routes: readonly BoundRoute[],
  sim: SimContext,
): Promise<SimResponse> {
  sim.state.settle()
  const auth = authenticate(req, 'graph', sim)
  if (!auth.ok) return auth.response
  const parsed = parseItems(req.body)
  if (!Array.isArray(parsed)) return parsed
  const order = executionOrder(parsed)
  if (!order) return invalid('The dependsOn chain of the batch has a cycle.')
  const results = new Map<string, BatchItemResponse>()
  for (const item of order) {
    const failedDep = item.dependsOn.find((d) => {
      const status = results.get(d)!.status
      return status < 200 || status >= 300
    })
    let res: SimResponse
    if (failedDep !== undefined) {
      res = graphError(424, 'FailedDependency', `Request '${failedDep}' that this request depends on failed.`)
    } else {
      res = await runItem(item, version, req, routes, sim, auth.claims)
    }
    const headers: Record<string, string> = { ...(res.headers ?? {}) }
    if (res.body !== undefined) headers['Content-Type'] = 'application/json'
    results.set(item.id, {
      id: item.id,
      status: res.status,
      headers,
      ...(res.body !== undefined ? { body: res.body } : {}),
    })
  }
  return json(200, { responses: parsed.map((i) => results.get(i.id)!) })
}
