/**
 * @module The one HTTP client for Microsoft Graph and the Defender API: bearer tokens, paging that follows
 * `@odata.nextLink` verbatim, 429/503/504 with `Retry-After` (seconds, possibly fractional) or exponential
 * backoff with jitter, bounded attempts, client-side rate limits, and errors that say which permission to grant.
 * Nothing else in offboard talks HTTP to these APIs (reference §1.3, §2.4, §4.3, §4.6, §5).
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleepFor } from 'node:timers/promises'
import { SourceError } from './errors.js'
import type { Logger } from './log.js'
import { defaultSleep, type RateLimiter } from './rate-limiter.js'

/** Anything that can produce a bearer token for a scope (an @azure/identity credential, the simulator's client). */
export interface TokenProvider {
  getToken(scope: string, options?: { forceRefresh?: boolean }): Promise<string>
}

export interface ApiClientOptions {
  /** For messages: "Microsoft Graph" or "Defender for Endpoint". */
  name: string
  /** Base URL that relative paths are resolved against, e.g. https://graph.microsoft.com/v1.0. */
  baseUrl: string
  /** OAuth scope, e.g. https://graph.microsoft.com/.default. */
  scope: string
  tokens: TokenProvider
  limiter?: RateLimiter
  /** Attempts per request, including the first (default 6). */
  maxAttempts?: number
  /** First backoff delay without Retry-After (default 500 ms); doubles per attempt, with jitter, up to maxBackoffMs. */
  baseBackoffMs?: number
  maxBackoffMs?: number
  /** Longest Retry-After honoured before giving up (default 5 minutes). */
  maxRetryAfterMs?: number
  timeoutMs?: number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  log?: Logger
  /** Extra headers on every request (e.g. ConsistencyLevel). */
  headers?: Record<string, string>
}

export interface ApiResponse<T = unknown> {
  status: number
  headers: Headers
  body: T
}

export interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  /** Which source the call is for, and the permission it needs, for error messages. */
  source: string
  permission: string
  /** Statuses that are answers, not errors (e.g. 404 on a delete of something already gone). */
  accept?: number[]
  /**
   * The request changes something and must not reach the service twice (a `$batch` of writes, a Defender offboard):
   * it is sent again only after answers that say it was not processed (429, or 401 before a token refresh). After a
   * network error, a cut-short body or a 5xx its effect is unknown, and {@link UncertainOutcomeError} says so.
   */
  once?: boolean
  /** Abandons the request: no further attempt is made and a wait between attempts ends at once. */
  signal?: AbortSignal
}

/**
 * A write whose effect is unknown: the connection failed or the service answered 5xx after the request left. The
 * caller re-reads the targets (offboard act --resume does) rather than sending it again blindly.
 */
export class UncertainOutcomeError extends SourceError {}

/** Statuses worth another attempt: throttled or temporarily unavailable (reference §4.6, §5). */
const RETRYABLE = new Set([429, 500, 502, 503, 504])

/** One page as the API answered it, before the next page's URL is worked out. */
interface FetchedPage {
  value: unknown[]
  nextLink: unknown
  count: unknown
}

/** A page of a collection. */
export interface Page<T = unknown> {
  items: T[]
  /** 1-based page number. */
  number: number
  /** The total the API announced (`@odata.count`), when it did. */
  total: number | null
}

export class ApiClient {
  private readonly maxAttempts: number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly random: () => number
  private readonly origin: string

  constructor(readonly opts: ApiClientOptions) {
    this.maxAttempts = opts.maxAttempts ?? 6
    this.sleep = opts.sleep ?? defaultSleep
    this.random = opts.random ?? Math.random
    this.origin = new URL(opts.baseUrl).origin
  }

  /** Resolves a path against the base URL; absolute URLs (nextLinks) are used verbatim but must stay on the API's origin. */
  resolve(pathOrUrl: string): string {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      // A nextLink that leaves the API's host would receive our bearer token: refuse it.
      if (new URL(pathOrUrl).origin !== this.origin) {
        throw new SourceError(
          `${this.opts.name} returned a link to another host (${new URL(pathOrUrl).origin}); offboard does not follow it.`,
          'unknown',
          pathOrUrl,
          null,
        )
      }
      return pathOrUrl
    }
    return `${this.opts.baseUrl.replace(/\/$/, '')}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`
  }

  /**
   * One request with retries. Returns the parsed JSON body (or null for 204).
   * @throws SourceError with the status, the endpoint and, on 403, the permission to grant.
   */
  async request<T = unknown>(
    method: string,
    pathOrUrl: string,
    options: RequestOptions,
  ): Promise<ApiResponse<T>> {
    const url = this.resolve(pathOrUrl)
    const endpoint = `${method} ${new URL(url).pathname}`
    let forceRefresh = false
    let lastProblem = ''
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      await this.opts.limiter?.acquire()
      options.signal?.throwIfAborted()
      const requestId = randomUUID()
      const started = performance.now()
      let response: Response
      let text: string
      const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 120_000)
      try {
        const token = await this.opts.tokens.getToken(this.opts.scope, { forceRefresh })
        response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            'client-request-id': requestId,
            ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...this.opts.headers,
            ...options.headers,
          },
          body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
          signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
        })
        // Reading the body can fail on its own (connection reset mid-body).
        text = await response.text()
      } catch (err) {
        if (err instanceof SourceError) throw err
        // Abandoned by the caller, not a network fault: nothing to retry.
        if (options.signal?.aborted) throw options.signal.reason
        lastProblem = describeNetworkError(err)
        if (options.once) throw this.uncertain(endpoint, options, lastProblem)
        this.opts.log?.debug({
          event: 'graphClient.request.networkError',
          requestId,
          endpoint,
          attempt,
          problem: lastProblem,
        })
        if (attempt < this.maxAttempts) await this.pause(this.backoff(attempt), options.signal)
        continue
      }
      const ms = Math.round(performance.now() - started)
      this.opts.log?.debug({
        event: 'graphClient.request.done',
        requestId,
        serverRequestId: response.headers.get('request-id') ?? undefined,
        endpoint,
        status: response.status,
        attempt,
        ms,
      })
      if (response.status === 204 || (text === '' && response.ok))
        return { status: response.status, headers: response.headers, body: null as T }
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        // A 2xx with a body cut short is a transport fault, not an answer: try again.
        lastProblem = `the response body was not complete JSON (${text.length} bytes received)`
        if (options.once) throw this.uncertain(endpoint, options, lastProblem)
        if (attempt < this.maxAttempts) await this.pause(this.backoff(attempt), options.signal)
        continue
      }
      if (response.ok || options.accept?.includes(response.status))
        return { status: response.status, headers: response.headers, body: body as T }
      if (response.status === 401 && !forceRefresh) {
        // An expired or revoked token: get a fresh one once.
        forceRefresh = true
        continue
      }
      if (RETRYABLE.has(response.status)) {
        lastProblem = `HTTP ${response.status}${errorText(body)}`
        if (options.once && response.status !== 429) throw this.uncertain(endpoint, options, lastProblem)
        if (attempt === this.maxAttempts) break
        const wait = this.retryDelay(response, attempt)
        if (wait === null) break
        this.opts.log?.debug({
          event: 'graphClient.request.retry',
          requestId,
          endpoint,
          status: response.status,
          waitMs: wait,
        })
        await this.pause(wait, options.signal)
        continue
      }
      throw this.httpError(response.status, body, endpoint, options)
    }
    throw new SourceError(
      `${this.opts.name} did not answer ${endpoint} after ${this.maxAttempts} attempts: ${lastProblem}.`,
      options.source,
      endpoint,
      null,
      'Check the network and the service health, then run again; previous results are kept.',
    )
  }

  /**
   * Pages through a collection, following `@odata.nextLink` verbatim to the end. For Defender, whose list API
   * documents `$skip` rather than nextLinks (reference §4.3, unverified), a full page without a nextLink
   * continues with `$skip`.
   *
   * One page is read ahead: page n+1 is requested as soon as page n's link to it is known, before page n is handed
   * over, so the service prepares the next page while the caller works on this one (one request in flight at most,
   * as before). A failure of the page read ahead surfaces when the caller asks for that page; a caller that stops
   * early (`break`, or a throw out of `for await`) abandons it.
   */
  async *pages<T = unknown>(
    path: string,
    options: RequestOptions & { top: number; skipPaging?: boolean },
  ): AsyncGenerator<Page<T>> {
    const seen = new Set<string>()
    const abandon = new AbortController()
    const signal = options.signal ? AbortSignal.any([options.signal, abandon.signal]) : abandon.signal
    const pageOptions = { ...options, signal }
    let number = 0
    let skip = 0
    let total: number | null = null
    let ahead: Promise<FetchedPage> | null = this.fetchPage(path, path, seen, pageOptions)
    try {
      while (ahead) {
        const page: FetchedPage = await ahead
        ahead = null
        let next: string | null = null
        if (typeof page.nextLink === 'string' && page.nextLink !== '') next = page.nextLink
        else if (options.skipPaging && page.value.length >= options.top && page.value.length > 0) {
          skip += page.value.length
          const u = new URL(this.resolve(path))
          u.searchParams.set('$skip', String(skip))
          next = u.toString()
        }
        if (next !== null) {
          ahead = this.fetchPage(next, path, seen, pageOptions)
          // Its failure is the caller's when it reaches that page; until then it must not count as unhandled.
          ahead.catch(() => undefined)
        }
        number++
        if (typeof page.count === 'number') total = page.count
        yield { items: page.value as T[], number, total }
      }
    } finally {
      abandon.abort()
    }
  }

  /** Requests one page of a collection; refuses a link that points back at an earlier page (`seen`). */
  private async fetchPage(
    url: string,
    path: string,
    seen: Set<string>,
    options: RequestOptions,
  ): Promise<FetchedPage> {
    const resolved = this.resolve(url)
    if (seen.has(resolved)) {
      throw new SourceError(
        `${this.opts.name} sent a nextLink that points back at an earlier page (${new URL(resolved).pathname}); the listing would never end.`,
        options.source,
        `GET ${new URL(resolved).pathname}`,
        null,
        'This is a service-side fault; run again later.',
      )
    }
    seen.add(resolved)
    const res: ApiResponse<{ value?: unknown; '@odata.nextLink'?: unknown; '@odata.count'?: unknown }> =
      await this.request('GET', resolved, options)
    const value = res.body?.value
    if (!Array.isArray(value)) {
      throw new SourceError(
        `${this.opts.name} answered ${new URL(resolved).pathname} without a "value" array.`,
        options.source,
        `GET ${path}`,
        res.status,
      )
    }
    return { value, nextLink: res.body?.['@odata.nextLink'], count: res.body?.['@odata.count'] }
  }

  /** Waits between attempts; an abandoned request stops waiting at once (its timer must not hold the process). */
  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal || this.opts.sleep) return this.sleep(ms)
    await sleepFor(ms, undefined, { signal }).catch(() => undefined)
  }

  private uncertain(endpoint: string, options: RequestOptions, problem: string): UncertainOutcomeError {
    return new UncertainOutcomeError(
      `${this.opts.name} did not answer ${endpoint} clearly (${problem}); the change may or may not have been made, so it was not sent again.`,
      options.source,
      endpoint,
      null,
      'Run offboard act --resume: it re-reads each target and sends only what did not take effect.',
    )
  }

  private retryDelay(response: Response, attempt: number): number | null {
    const header = response.headers.get('retry-after')
    if (header !== null) {
      const seconds = Number(header)
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now()
      if (Number.isFinite(ms)) {
        if (ms > (this.opts.maxRetryAfterMs ?? 300_000)) return null
        return Math.max(0, Math.ceil(ms))
      }
    }
    return this.backoff(attempt)
  }

  /** Exponential backoff with full jitter. */
  private backoff(attempt: number): number {
    const base = this.opts.baseBackoffMs ?? 500
    const cap = this.opts.maxBackoffMs ?? 30_000
    const ceiling = Math.min(cap, base * 2 ** (attempt - 1))
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2)
  }

  private httpError(status: number, body: unknown, endpoint: string, options: RequestOptions): SourceError {
    const detail = errorText(body)
    if (status === 403) {
      return new SourceError(
        `${this.opts.name} refused ${endpoint} (403 Forbidden)${detail}.`,
        options.source,
        endpoint,
        status,
        `Grant the application permission ${options.permission} (admin consent required), or sign in as a user whose role allows it; run 'offboard doctor' to check every permission.`,
        options.permission,
      )
    }
    if (status === 401) {
      return new SourceError(
        `${this.opts.name} did not accept the sign-in for ${endpoint} (401 Unauthorized)${detail}.`,
        options.source,
        endpoint,
        status,
        'Check the tenant id, client id and secret or certificate; run offboard doctor.',
      )
    }
    return new SourceError(
      `${this.opts.name} answered ${endpoint} with HTTP ${status}${detail}.`,
      options.source,
      endpoint,
      status,
    )
  }
}

/** ": <code>: <message>" from a Graph or Defender error body (also inside a `$batch` item), or "". */
export function errorText(body: unknown): string {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
  if (!err || typeof err !== 'object') return ''
  const parts = [err.code, err.message].filter((p) => typeof p === 'string' && p !== '')
  return parts.length ? `: ${parts.join(': ')}` : ''
}

function describeNetworkError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError') return 'the request timed out'
  const code = e?.cause?.code
  if (code === 'ECONNREFUSED') return 'the connection was refused (is the service reachable?)'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was reset'
  return e?.cause?.message ?? e?.message ?? String(err)
}
