/** @module Every MCP tool call goes through one guard: one call at a time, and any failure becomes a tool error. */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { errorResult, serialized } from '../context.js'

export type Guard = (tool: string, fn: () => Promise<CallToolResult>) => Promise<CallToolResult>

export function createGuard(): Guard {
  const oneAtATime = serialized()
  return (tool, fn) => oneAtATime(() => fn().catch((err: unknown) => errorResult(err, tool)))
}
