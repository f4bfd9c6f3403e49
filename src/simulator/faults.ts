/** @module Injected faults (throttling, 5xx, latency, resets, truncated bodies, looping nextLinks), repeatable by seed. */
import { type Rng, rngFor } from '../demo/prng.js'
import { apiError } from './errors.js'
import type { ApiKind, FaultOptions, SimResponse } from './types.js'

/** Graph allows fractional Retry-After (reference §5: "may be fractional, e.g. 2.128"); kept tiny so tests stay fast. */
export const FAULT_RETRY_AFTER_S = '0.05'
/** Keeps fault draws apart from the demo generator's streams under the same seed. */
const FAULT_NAMESPACE = 0xfa17
const DEFAULT_FAULT_SEED = 1
/** Mostly 503, as Graph's guidance describes; 500 and 504 also occur. */
const SERVER_ERRORS: readonly (readonly [number, number])[] = [
  [503, 0.6],
  [500, 0.2],
  [504, 0.2],
]
const SERVER_ERROR_BODIES: Record<number, { graph: [string, string]; defender: [string, string] }> = {
  500: {
    graph: ['generalException', 'An unexpected error occurred.'],
    defender: ['InternalServerError', 'Internal server error. Please retry.'],
  },
  503: {
    graph: ['serviceNotAvailable', 'The service is temporarily unavailable. Please retry after a delay.'],
    defender: ['ServiceUnavailable', 'The service is temporarily unavailable. Please retry.'],
  },
  504: {
    graph: ['gatewayTimeout', 'The server, while acting as a proxy, did not receive a timely response.'],
    defender: ['GatewayTimeout', 'The request timed out. Please retry.'],
  },
}

export interface TransportFault {
  latencyMs: number
  reset: boolean
  /** Share of the body to send before the socket is destroyed; null to send it whole. */
  truncateAt: number | null
}

function checkRate(name: string, value: number | undefined): void {
  if (value === undefined) return
  if (!(value >= 0 && value <= 1))
    throw new Error(`simulator: faults.${name} must be between 0 and 1, got ${value}`)
}

/**
 * Draws faults from one seeded stream. Every draw consumes a fixed count of numbers whatever the rates are,
 * so the same seed and the same request order give the same faults.
 */
export class FaultInjector {
  private opts: FaultOptions = {}
  private rng: Rng = rngFor(DEFAULT_FAULT_SEED, 0, FAULT_NAMESPACE)

  constructor(opts: FaultOptions = {}) {
    this.set(opts)
  }

  /** Replaces the options; a given `seed` restarts the stream. */
  set(opts: FaultOptions): void {
    checkRate('rate429', opts.rate429)
    checkRate('rate5xx', opts.rate5xx)
    checkRate('resetRate', opts.resetRate)
    checkRate('truncateRate', opts.truncateRate)
    if (opts.latencyMs !== undefined && !(opts.latencyMs >= 0))
      throw new Error(`simulator: faults.latencyMs must be 0 or more, got ${opts.latencyMs}`)
    this.opts = { ...opts }
    if (opts.seed !== undefined) this.rng = rngFor(opts.seed, 0, FAULT_NAMESPACE)
  }

  get nextLinkLoop(): boolean {
    return this.opts.nextLinkLoop === true
  }

  /** Faults on the connection itself, for requests that came over the wire. */
  drawTransport(): TransportFault {
    const reset = this.rng.float() < (this.opts.resetRate ?? 0)
    const truncate = this.rng.float() < (this.opts.truncateRate ?? 0)
    const cut = 0.2 + 0.6 * this.rng.float()
    return { latencyMs: this.opts.latencyMs ?? 0, reset, truncateAt: truncate ? cut : null }
  }

  /** A throttling or server error answer, or undefined to let the request through (also for each $batch item). */
  drawStatus(api: ApiKind): SimResponse | undefined {
    const throttle = this.rng.float() < (this.opts.rate429 ?? 0)
    const fail = this.rng.float() < (this.opts.rate5xx ?? 0)
    const kind = this.rng.weighted(SERVER_ERRORS)
    if (throttle) {
      const headers = { 'Retry-After': FAULT_RETRY_AFTER_S }
      return api === 'graph'
        ? apiError(api, 429, 'TooManyRequests', 'Too many requests.', headers)
        : apiError(api, 429, 'TooManyRequests', 'API calls quota exceeded! Please retry later.', headers)
    }
    if (fail) {
      const [code, message] = SERVER_ERROR_BODIES[kind]![api]
      return apiError(api, kind, code, message)
    }
    return undefined
  }
}
