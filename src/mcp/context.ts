/**
 * @module What every MCP tool shares: the acting user and tenant (resolved as the CLI resolves them), one store
 * per call, calls taken one at a time, and results and errors in the shape an MCP client expects.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { resolveTenant, withStore } from '../agent/context.js'
import { OffboardError } from '../lib/errors.js'
import type { ApiClient } from '../lib/graph-client.js'
import { logger } from '../lib/log.js'
import { sanitizeText } from '../report/sanitize.js'
import type { Store } from '../store/store.js'
import type { DryRunLedger } from './dry-runs.js'

export interface McpContext {
  /** The user every call acts as (`--as`, else OFFBOARD_USER, else the OS user): roles apply to them. */
  actor: string
  /** `--tenant`; else OFFBOARD_TENANT_ID, else the store's only tenant, resolved per call like the CLI. */
  tenant: string | undefined
  env: NodeJS.ProcessEnv
  openStore: () => Promise<Store>
  /** The Graph client for the disable, signed in on first use. */
  connect: () => Promise<ApiClient>
  dryRuns: DryRunLedger
}

/**
 * Runs one tool call with an open store and the resolved tenant. Calls are taken one at a time: a PGlite data
 * folder is one connection, and the store is opened per call (not held for the server's lifetime) so that
 * `offboard run` in another process can use the folder between calls.
 */
export function serialized(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(fn: () => Promise<T>) => {
    const next = tail.then(fn, fn)
    tail = next.catch(() => {})
    return next
  }
}

export async function withTenant<T>(
  ctx: McpContext,
  fn: (store: Store, tenantId: string) => Promise<T>,
): Promise<T> {
  return withStore(ctx.openStore, async (store) => fn(store, await resolveTenant(store, ctx.tenant, ctx.env)))
}

/**
 * A result as a one-line summary for people, then the JSON (the last content item) for the model and for scripts.
 * Tenant strings stay data: control and bidi characters in them are shown escaped (the lead is offboard's own text).
 */
export function jsonResult(value: unknown, lead: string): CallToolResult {
  const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? sanitizeText(v) : v), 2)
  return {
    content: [
      { type: 'text', text: lead },
      { type: 'text', text: json },
    ],
  }
}

/**
 * A failure as an MCP tool error (isError), never a crash of the server: offboard's own errors keep their message
 * and how to fix it; anything else is reported as a bug, with the details on stderr only.
 */
export function errorResult(err: unknown, tool: string): CallToolResult {
  if (err instanceof OffboardError) {
    const text = `${err.message}${err.hint ? `\nHow to fix: ${err.hint}` : ''}`
    return { content: [{ type: 'text', text }], isError: true }
  }
  logger().error({ err, tool }, 'mcp.tool.unexpected')
  const message = err instanceof Error ? err.message : String(err)
  return {
    content: [
      {
        type: 'text',
        text: `unexpected error in ${tool}: ${message}. This is a bug in offboard; please report it with what you asked.`,
      },
    ],
    isError: true,
  }
}
