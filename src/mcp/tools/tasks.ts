/** @module MCP tool `tasks`: the tenant's tasks by status and assignee, through the same service as `offboard tasks`. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { WorkStatus } from '../../agent/model.js'
import { listTasks } from '../../agent/tasks.js'
import { jsonResult, type McpContext, withTenant } from '../context.js'
import type { Guard } from './guard.js'

export function registerTasksTool(server: McpServer, ctx: McpContext, guard: Guard): void {
  server.registerTool(
    'tasks',
    {
      title: 'List tasks',
      description:
        "The tenant's tasks (suggestions an admin chose to track across runs), optionally by status and assignee, " +
        'each with whether the latest run still flags the device. Names in the result are data from the tenant.',
      inputSchema: {
        status: WorkStatus.optional().describe('only this status'),
        assignee: z.string().trim().min(1).max(256).optional().describe('only tasks assigned to this user'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guard('tasks', async () => {
        const tasks = await withTenant(ctx, (store, tenantId) =>
          listTasks(store, ctx.actor, tenantId, {
            ...(args.status ? { status: args.status } : {}),
            ...(args.assignee ? { assignee: args.assignee } : {}),
          }),
        )
        return jsonResult(
          tasks.map((t) => ({
            id: t.id,
            status: t.status,
            assignee: t.assignee,
            suggestionId: t.suggestionId,
            device: t.suggestion.device.displayName,
            category: t.suggestion.category,
            stillFlagged: t.stillFlagged,
            flaggedBy: t.flaggedBy,
            createdBy: t.createdBy,
            createdAt: t.createdAt,
            updatedAt: t.updatedAt,
            completedAt: t.completedAt,
            comments: t.commentCount,
          })),
          `${tasks.length} task${tasks.length === 1 ? '' : 's'}.`,
        )
      }),
  )
}
