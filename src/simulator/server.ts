/** @module Starts the simulator: a Fastify server on 127.0.0.1 (HTTP or self-signed HTTPS) serving Graph, Defender and the token endpoints. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { generate } from 'selfsigned'
import { handleBatch } from './batch.js'
import { bitlockerRoutes } from './bitlocker.js'
import { DEFAULT_DEFENDER_LIMITS, DefenderRateLimiter, defenderRoutes } from './defender.js'
import { apiError, DEFENDER_JSON, GRAPH_JSON } from './errors.js'
import { FaultInjector } from './faults.js'
import { graphActionRoutes } from './graph-actions.js'
import { DEFAULT_PAGE_SIZE, graphReadRoutes } from './graph-devices.js'
import { SkipTokens } from './odata.js'
import {
  type BoundRoute,
  bindRoutes,
  clientIdOf,
  execute,
  type GraphVersion,
  parseJsonBody,
  type SimContext,
} from './routing.js'
import { SimState } from './state.js'
import { registerTokenRoutes, signedInUser, TokenIssuer } from './token.js'
import type { ApiKind, SimRequest, SimResponse, Simulator, SimulatorOptions } from './types.js'

/** Used when neither the options nor the data's meta.json name a tenant. */
export const DEFAULT_TENANT_ID = '8f4d7a52-3c1e-4b9a-9d6e-5a2b1c0e7f31'

import { DEFAULT_APP, DEFAULT_USER } from './permissions.js'

export { DEFAULT_APP }

const DEFAULT_MACHINE_ACTION_DELAY_MS = 1000
/** Large tenants send big JSON bodies only in $batch; 50 MiB leaves plenty of room. */
const BODY_LIMIT = 50 * 1024 * 1024
const CERT_DAYS = 30
const GRAPH_VERSIONS: readonly GraphVersion[] = ['v1.0', 'beta']
const MUTATING = new Set(['POST', 'PATCH', 'DELETE', 'PUT'])

interface Certificate {
  key: string
  cert: string
}

/** A self-signed certificate for 127.0.0.1 and localhost, valid for CERT_DAYS. */
async function makeCertificate(): Promise<Certificate> {
  const notBeforeDate = new Date(Date.now() - 60_000)
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + CERT_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  })
  return { key: pems.private, cert: pems.cert }
}

function toSimRequest(request: FastifyRequest): SimRequest {
  const url = request.raw.url ?? '/'
  const q = url.indexOf('?')
  const rawQuery = q < 0 ? '' : url.slice(q + 1)
  const headers: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(request.headers))
    headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
  return {
    method: request.method.toUpperCase(),
    path: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(rawQuery),
    rawQuery,
    headers,
    body: typeof request.body === 'string' && request.body !== '' ? request.body : undefined,
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function apiOfPath(path: string): ApiKind | null {
  if (/^\/(v1\.0|beta)(\/|$)/i.test(path)) return 'graph'
  if (/^\/api(\/|$)/i.test(path)) return 'defender'
  return null
}

/**
 * Starts a simulator. Call `close()` when done.
 * @throws Error for invalid fault options or when the port cannot be bound.
 */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const clock = opts.clock ?? Date.now
  const tenantId = opts.tenantId ?? opts.data.meta?.tenantId ?? DEFAULT_TENANT_ID
  const apps = opts.apps ?? [DEFAULT_APP]
  const users = (opts.users ?? [DEFAULT_USER]).map(signedInUser)
  const approver = opts.deviceCodeUser
    ? users.find((u) => u.upn.toLowerCase() === opts.deviceCodeUser!.toLowerCase())
    : users[0]
  if (opts.deviceCodeUser && !approver)
    throw new Error(`simulator: deviceCodeUser ${opts.deviceCodeUser} is not one of the configured users`)
  const certificate = opts.https ? await makeCertificate() : undefined
  let origin = ''
  const state = new SimState(opts.data, {
    clock,
    autopilotDeleteDelayMs: opts.autopilotDeleteDelayMs ?? 0,
    machineActionDelayMs: opts.machineActionDelayMs ?? DEFAULT_MACHINE_ACTION_DELAY_MS,
    failingMachines: new Set((opts.failingMachines ?? []).map((m) => m.toLowerCase())),
    intuneDeleteDelayMs: opts.intuneDeleteDelayMs ?? 0,
  })
  const issuer = new TokenIssuer(tenantId, clock)
  const faults = new FaultInjector(opts.faults ?? {})
  const sim: SimContext = {
    state,
    tenantId,
    baseUrl: () => origin,
    issuer,
    faults,
    skipTokens: new SkipTokens(),
    pageSize: { ...DEFAULT_PAGE_SIZE, ...opts.pageSize },
    defenderLimiter: new DefenderRateLimiter(opts.defenderLimits ?? DEFAULT_DEFENDER_LIMITS, clock),
  }
  for (const [name, size] of Object.entries(sim.pageSize)) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`simulator: pageSize.${name} must be a whole number ≥ 1, got ${size}`)
  }

  const app: FastifyInstance = fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    ...(certificate ? { https: { key: certificate.key, cert: certificate.cert } } : {}),
  }) as unknown as FastifyInstance
  // Bodies stay text: handlers answer bad JSON with the API's own error body, not Fastify's.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))

  const logged = new WeakSet<object>()
  const logRequest = (request: FastifyRequest, status: number): void => {
    if (logged.has(request.raw)) return
    logged.add(request.raw)
    state.recordRequest({
      method: request.method,
      path: (request.raw.url ?? '').split('?')[0]!,
      status,
      at: new Date(state.now()).toISOString(),
    })
  }
  app.addHook('onResponse', async (request, reply) => logRequest(request, reply.statusCode))

  /** Sends an API response, or its first bytes only when the truncate fault fired. */
  const send = (
    request: FastifyRequest,
    reply: FastifyReply,
    api: ApiKind,
    res: SimResponse,
    truncateAt: number | null,
  ) => {
    const headers: Record<string, string> = { ...res.headers }
    if (res.body === undefined) {
      return reply.code(res.status).headers(headers).send()
    }
    const payload = JSON.stringify(res.body)
    headers['content-type'] = api === 'graph' ? GRAPH_JSON : DEFENDER_JSON
    if (truncateAt === null) return reply.code(res.status).headers(headers).send(payload)
    logRequest(request, res.status)
    reply.hijack()
    const bytes = Buffer.from(payload)
    const cut = Math.max(1, Math.min(bytes.length - 1, Math.floor(bytes.length * truncateAt)))
    reply.raw.writeHead(res.status, { ...headers, 'content-length': String(bytes.length) })
    reply.raw.write(bytes.subarray(0, cut), () => request.raw.socket.destroy())
    return reply
  }

  /** Transport faults first (latency, reset), then the handler, then maybe a truncated answer. */
  const onWire = async (
    request: FastifyRequest,
    reply: FastifyReply,
    api: ApiKind,
    run: (req: SimRequest) => Promise<SimResponse>,
  ): Promise<FastifyReply> => {
    const req = toSimRequest(request)
    const transport = faults.drawTransport()
    if (transport.latencyMs > 0) await sleep(transport.latencyMs)
    if (transport.reset) {
      logRequest(request, 0)
      if (MUTATING.has(req.method) && !/\/\$batch$/i.test(req.path))
        state.recordCall({
          method: req.method,
          path: req.path,
          query: req.rawQuery,
          body: parseJsonBody(req.body),
          status: 0,
          clientId: clientIdOf(req, sim),
        })
      reply.hijack()
      request.raw.socket.destroy()
      return reply
    }
    const res = await run(req)
    return send(request, reply, api, res, transport.truncateAt)
  }

  const routes: BoundRoute[] = bindRoutes([
    ...graphReadRoutes,
    ...graphActionRoutes,
    ...bitlockerRoutes,
    ...defenderRoutes,
  ])
  for (const route of routes) {
    app.route({
      method: route.def.method,
      url: route.fullPath,
      handler: (request, reply) =>
        onWire(request, reply, route.def.api, (req) =>
          execute(route, request.params as Record<string, string>, req, sim),
        ),
    })
  }
  for (const version of GRAPH_VERSIONS) {
    app.post(`/${version}/$batch`, (request, reply) =>
      onWire(request, reply, 'graph', (req) => handleBatch(req, version, routes, sim)),
    )
  }
  registerTokenRoutes(app, {
    tenantId,
    apps,
    issuer,
    baseUrl: () => origin,
    approver: approver ?? null,
    pendingPolls: opts.deviceCodePendingPolls ?? 1,
    clock,
  })
  // For tests in another process (no auth: the simulator only listens on 127.0.0.1).
  app.get('/_simulator/calls', async () => state.calls())
  app.get('/_simulator/requests', async () => state.requests())

  app.setNotFoundHandler(async (request, reply) => {
    const path = (request.raw.url ?? '').split('?')[0]!
    const api = apiOfPath(path)
    const res =
      api === 'graph'
        ? apiError(
            'graph',
            400,
            'BadRequest',
            `Resource not found for the segment '${path.split('/').pop()}'.`,
          )
        : api === 'defender'
          ? apiError('defender', 404, 'NotFound', `No API matches ${request.method} ${path}.`)
          : apiError('graph', 404, 'NotFound', `No route for ${request.method} ${path} on the simulator.`)
    return send(request, reply, api ?? 'graph', res, null)
  })
  app.setErrorHandler(async (error: { statusCode?: number; message?: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
    const api = apiOfPath((request.raw.url ?? '').split('?')[0]!) ?? 'graph'
    return send(
      request,
      reply,
      api,
      apiError(api, status, status === 500 ? 'InternalServerError' : 'BadRequest', error.message ?? 'error'),
      null,
    )
  })

  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : opts.port
  origin = `${certificate ? 'https' : 'http'}://127.0.0.1:${port}`

  let caDir: string | undefined
  let caPath: string | undefined
  if (certificate) {
    caDir = await mkdtemp(join(tmpdir(), 'offboard-sim-'))
    caPath = join(caDir, 'ca.pem')
    await writeFile(caPath, certificate.cert)
  }

  let closed = false
  return {
    url: origin,
    ...(certificate ? { caPem: certificate.cert, caPath: caPath! } : {}),
    tenantId,
    graphBaseUrl: `${origin}/v1.0`,
    defenderBaseUrl: origin,
    authorityHost: origin,
    calls: () => state.calls(),
    requests: () => state.requests(),
    data: () => state.snapshot(),
    setFaults: (f) => faults.set(f),
    close: async () => {
      if (closed) return
      closed = true
      await app.close()
      if (caDir) await rm(caDir, { recursive: true, force: true })
    },
  }
}
