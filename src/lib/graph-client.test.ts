/** @module The HTTP client's contract, against a scripted loopback server: retries, Retry-After, paging, errors. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { SourceError } from './errors.js'
import { ApiClient, type TokenProvider, UncertainOutcomeError } from './graph-client.js'

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void
let server: Server | undefined
afterEach(async () => {
  // Keep-alive connections (one per abandoned request) would otherwise hold close() for seconds.
  server?.closeAllConnections()
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  server = undefined
})

async function serve(handler: Handler): Promise<string> {
  let n = 0
  server = createServer((req, res) => handler(req, res, ++n))
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

class CountingTokens implements TokenProvider {
  calls: { scope: string; forceRefresh: boolean }[] = []
  async getToken(scope: string, options?: { forceRefresh?: boolean }) {
    this.calls.push({ scope, forceRefresh: Boolean(options?.forceRefresh) })
    return `token-${this.calls.length}`
  }
}

function client(baseUrl: string, extra: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) {
  const sleeps: number[] = []
  const tokens = new CountingTokens()
  const c = new ApiClient({
    name: 'Microsoft Graph',
    baseUrl,
    scope: 'https://graph.microsoft.com/.default',
    tokens,
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    random: () => 0.5,
    ...extra,
  })
  return { c, sleeps, tokens }
}
const OPTS = { source: 'entra', permission: 'Device.Read.All' }

describe('ApiClient', () => {
  it('sends the bearer token, a client-request-id and accepts JSON', async () => {
    let seen: IncomingMessage | undefined
    const base = await serve((req, res) => {
      seen = req
      json(res, 200, { ok: true })
    })
    const { c } = client(`${base}/v1.0`)
    const res = await c.request('GET', '/devices', OPTS)
    expect(res.body).toEqual({ ok: true })
    expect(seen!.headers.authorization).toBe('Bearer token-1')
    expect(seen!.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(seen!.url).toBe('/v1.0/devices')
  })

  it('waits the fractional Retry-After of a 429 and then succeeds', async () => {
    const base = await serve((_req, res, n) =>
      n === 1
        ? json(res, 429, { error: { code: 'TooManyRequests' } }, { 'retry-after': '2.128' })
        : json(res, 200, { value: [] }),
    )
    const { c, sleeps } = client(base)
    expect((await c.request('GET', '/x', OPTS)).status).toBe(200)
    expect(sleeps).toEqual([2128])
  })

  it('backs off exponentially (with jitter) on 503 without Retry-After, then gives up after maxAttempts', async () => {
    const base = await serve((_req, res) =>
      json(res, 503, { error: { code: 'ServiceUnavailable', message: 'busy' } }),
    )
    const { c, sleeps } = client(base, { maxAttempts: 4, baseBackoffMs: 100 })
    const err = await c.request('GET', '/devices', OPTS).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect((err as SourceError).message).toMatch(
      /did not answer GET \/devices after 4 attempts: HTTP 503: ServiceUnavailable: busy/,
    )
    // random() = 0.5 → 75 % of the doubling ceiling: 100, 200, 400.
    expect(sleeps).toEqual([75, 150, 300])
  })

  it('retries a 200 whose body was cut short', async () => {
    const base = await serve((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(n === 1 ? '{"value":[{"id":"a"},{"id"' : '{"value":[{"id":"a"}]}')
    })
    const { c } = client(base)
    expect((await c.request<{ value: unknown[] }>('GET', '/x', OPTS)).body.value).toHaveLength(1)
  })

  it('refreshes the token once on 401, then reports the sign-in problem', async () => {
    const base = await serve((_req, res) =>
      json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired.' } }),
    )
    const { c, tokens } = client(base)
    const err = (await c.request('GET', '/devices', OPTS).catch((e: unknown) => e)) as SourceError
    expect(tokens.calls.map((t) => t.forceRefresh)).toEqual([false, true])
    expect(err.status).toBe(401)
    expect(err.hint).toMatch(/tenant id, client id/)
  })

  it('never sends a `once` write twice after an unclear failure (reset, 5xx, cut body), but does after a 429', async () => {
    const faults: ((res: ServerResponse) => void)[] = [
      (res) => res.socket?.destroy(),
      (res) => json(res, 503, { error: { code: 'ServiceUnavailable', message: 'busy' } }),
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"responses": [')
      },
    ]
    for (const fault of faults) {
      let posts = 0
      const base = await serve((_req, res) => {
        posts++
        fault(res)
      })
      const { c } = client(base)
      const err = await c.request('POST', '/$batch', { ...OPTS, body: {}, once: true }).catch((e) => e)
      expect(err).toBeInstanceOf(UncertainOutcomeError)
      expect(String(err.message)).toContain('may or may not have been made')
      expect(err.hint).toContain('--resume')
      expect(posts).toBe(1)
      await new Promise<void>((r) => server!.close(() => r()))
      server = undefined
    }
    let posts = 0
    const base = await serve((_req, res) => {
      posts++
      if (posts === 1) json(res, 429, { error: { code: 'TooManyRequests' } }, { 'retry-after': '1' })
      else json(res, 200, { responses: [] })
    })
    const { c, sleeps } = client(base)
    const res = await c.request('POST', '/$batch', { ...OPTS, body: {}, once: true })
    expect(res.status).toBe(200)
    expect(posts).toBe(2)
    expect(sleeps).toEqual([1000])
  })

  it('names the permission to grant on 403', async () => {
    const base = await serve((_req, res) =>
      json(res, 403, {
        error: {
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges to complete the operation.',
        },
      }),
    )
    const { c } = client(base)
    const err = (await c.request('GET', '/devices', OPTS).catch((e: unknown) => e)) as SourceError
    expect(err.status).toBe(403)
    expect(err.permission).toBe('Device.Read.All')
    expect(err.message).toContain('Authorization_RequestDenied')
    expect(err.hint).toContain('Grant the application permission Device.Read.All')
  })

  it('follows @odata.nextLink verbatim to the end', async () => {
    const base = await serve((req, res) => {
      const u = new URL(req.url!, 'http://x')
      const page = Number(u.searchParams.get('$skiptoken') ?? 0)
      json(res, 200, {
        value: [{ id: `r${page}` }],
        ...(page < 2
          ? { '@odata.nextLink': `http://${req.headers.host}/v1.0/devices?$skiptoken=${page + 1}&$top=1` }
          : {}),
      })
    })
    const { c } = client(`${base}/v1.0`)
    const ids: string[] = []
    for await (const p of c.pages<{ id: string }>('/devices?$top=1', { ...OPTS, top: 1 }))
      ids.push(...p.items.map((i) => i.id))
    expect(ids).toEqual(['r0', 'r1', 'r2'])
  })

  it('refuses a nextLink to another host (it would receive the token)', async () => {
    const base = await serve((_req, res) =>
      json(res, 200, { value: [], '@odata.nextLink': 'https://attacker.example/v1.0/devices?$skiptoken=1' }),
    )
    const { c } = client(base)
    const pages = async () => {
      for await (const _ of c.pages('/devices', { ...OPTS, top: 1 })) {
        // drain
      }
    }
    await expect(pages()).rejects.toThrow(/link to another host/)
  })

  it('continues Defender listings with $skip when a full page has no nextLink', async () => {
    const urls: string[] = []
    const base = await serve((req, res) => {
      urls.push(req.url!)
      const skip = Number(new URL(req.url!, 'http://x').searchParams.get('$skip') ?? 0)
      json(res, 200, { value: skip < 4 ? [{ id: skip }, { id: skip + 1 }] : [{ id: skip }] })
    })
    const { c } = client(base)
    let n = 0
    for await (const p of c.pages('/api/machines?$top=2', { ...OPTS, top: 2, skipPaging: true }))
      n += p.items.length
    expect(n).toBe(5)
    expect(urls).toEqual([
      '/api/machines?$top=2',
      '/api/machines?%24top=2&%24skip=2',
      '/api/machines?%24top=2&%24skip=4',
    ])
  })

  it('requests the next page while the caller still holds the current one', async () => {
    let secondRequested: () => void = () => undefined
    const second = new Promise<void>((r) => (secondRequested = r))
    const base = await serve((req, res) => {
      const page = Number(new URL(req.url!, 'http://x').searchParams.get('$skiptoken') ?? 0)
      if (page === 1) secondRequested()
      json(res, 200, {
        value: [{ id: `r${page}` }],
        ...(page < 1 ? { '@odata.nextLink': `http://${req.headers.host}/devices?$skiptoken=1` } : {}),
      })
    })
    const { c } = client(base)
    const ids: string[] = []
    for await (const p of c.pages<{ id: string }>('/devices', { ...OPTS, top: 1 })) {
      // Without read-ahead the second request would only leave after this body: it would never arrive.
      if (p.number === 1)
        await Promise.race([
          second,
          new Promise((_, reject) => setTimeout(() => reject(new Error('page 2 was not read ahead')), 2_000)),
        ])
      ids.push(...p.items.map((i) => i.id))
    }
    expect(ids).toEqual(['r0', 'r1'])
  })

  it('hands over every page before the failure of the page read ahead', async () => {
    const base = await serve((req, res) => {
      if (req.url!.includes('skiptoken'))
        return json(res, 403, {
          error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges.' },
        })
      json(res, 200, {
        value: [{ id: 'r0' }],
        '@odata.nextLink': `http://${req.headers.host}/devices?$skiptoken=1`,
      })
    })
    const { c } = client(base)
    const ids: string[] = []
    const read = async () => {
      for await (const p of c.pages<{ id: string }>('/devices', { ...OPTS, top: 1 }))
        ids.push(...p.items.map((i) => i.id))
    }
    await expect(read()).rejects.toThrow(/refused GET \/devices \(403 Forbidden\)/)
    expect(ids).toEqual(['r0'])
  })

  it('abandons the page read ahead when the caller stops early', async () => {
    let arrived: () => void = () => undefined
    const received = new Promise<void>((r) => (arrived = r))
    let abandoned: () => void = () => undefined
    const closed = new Promise<void>((r) => (abandoned = r))
    const base = await serve((req, res) => {
      // The second page never answers: only the client giving up on it ends the request.
      if (req.url!.includes('skiptoken')) {
        res.on('close', abandoned)
        return arrived()
      }
      json(res, 200, {
        value: [{ id: 'r0' }],
        '@odata.nextLink': `http://${req.headers.host}/devices?$skiptoken=1`,
      })
    })
    const { c } = client(base)
    for await (const _ of c.pages('/devices', { ...OPTS, top: 1 })) {
      await received
      break
    }
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('page 2 is still being read')), 2_000)),
    ])
  })

  it('stops waiting for a Retry-After when the request is abandoned', async () => {
    let attempts = 0
    const base = await serve((_req, res) => {
      attempts++
      json(res, 429, {}, { 'retry-after': '60' })
    })
    // The real sleep: an abandoned wait must end, not hold the process for a minute.
    const { c } = client(base, { sleep: undefined })
    const abandon = new AbortController()
    const pending = c.request('GET', '/x', { ...OPTS, signal: abandon.signal })
    while (attempts === 0) await new Promise((r) => setTimeout(r, 5))
    const started = Date.now()
    abandon.abort()
    await expect(pending).rejects.toThrow(/abort/i)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(attempts).toBe(1)
  })

  it('gives up instead of waiting a Retry-After longer than allowed', async () => {
    const base = await serve((_req, res) => json(res, 429, {}, { 'retry-after': '3600' }))
    const { c, sleeps } = client(base, { maxRetryAfterMs: 60_000 })
    await expect(c.request('GET', '/x', OPTS)).rejects.toThrow(/did not answer/)
    expect(sleeps).toEqual([])
  })
})
