/** @module API-shaped error responses: Graph `{error:{code,message,innerError}}` and Defender `{error:{code,message,target}}` (reference §4.6). */
import { randomUUID } from 'node:crypto'
import type { ApiKind, SimResponse } from './types.js'

export const GRAPH_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'
export const DEFENDER_JSON = 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8'

export function graphError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): SimResponse {
  const requestId = randomUUID()
  return {
    status,
    headers: { 'request-id': requestId, ...headers },
    body: {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': requestId,
        },
      },
    },
  }
}

/** Defender puts a correlation id in `target`. */
export function defenderError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): SimResponse {
  return { status, ...(headers ? { headers } : {}), body: { error: { code, message, target: randomUUID() } } }
}

export function apiError(
  api: ApiKind,
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): SimResponse {
  return api === 'graph'
    ? graphError(status, code, message, headers)
    : defenderError(status, code, message, headers)
}

export function json(status: number, body: unknown, headers?: Record<string, string>): SimResponse {
  return { status, body, ...(headers ? { headers } : {}) }
}

export function noContent(status = 204): SimResponse {
  return { status }
}
