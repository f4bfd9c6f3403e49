/**
 * @module Tasks: suggestions an admin decided to track. A task keeps a copy of its suggestion and the device's
 * stable ids, so it survives re-runs that replace the suggestions, and shows whether the latest run still flags
 * the device.
 */
import { type Kysely, type Selectable, sql } from 'kysely'
import { z } from 'zod'
import { DeviceIds, Suggestion } from '../domain/report.js'
import type { Database, TasksTable } from '../store/schema.js'
import type { Store } from '../store/store.js'
import { appendAudit } from './audit.js'
import { ConflictError, NotFoundError, parseInput } from './errors.js'
import { authorize, UserName } from './roles.js'
import { deviceKeys, latestCompletedRun } from './runs.js'
import { findSuggestionRow, WorkStatus } from './suggestions.js'

export const TaskId = z.coerce.number().int().positive()
export const MAX_COMMENT_CHARS = 4_000
export const CommentText = z.string().trim().min(1, 'a comment cannot be empty').max(MAX_COMMENT_CHARS)

export interface TaskComment {
  id: number
  author: string
  at: Date
  text: string
}

export interface TaskView {
  id: number
  tenantId: string
  suggestionId: string
  status: WorkStatus
  assignee: string | null
  createdBy: string
  createdAt: Date
  updatedAt: Date
  completedAt: Date | null
  /** The suggestion as it was when the task was added. */
  suggestion: Suggestion
  deviceIds: z.infer<typeof DeviceIds>
  /** The tenant's latest completed run still flags this device (any of its stable ids). */
  stillFlagged: boolean
  /** The current suggestion that flags it (its id may differ if the plan's targets changed). */
  flaggedBy: string | null
  latestRunId: string | null
  commentCount: number
  /** Filled by {@link getTask}; empty in lists. */
  comments: TaskComment[]
}

type TaskRow = Selectable<TasksTable> & { flagged_by: string | null; comment_count: string | number | null }

function selectTasks(db: Kysely<Database>) {
  return db
    .selectFrom('tasks as t')
    .selectAll('t')
    .select((eb) => [
      eb
        .selectFrom('suggestions as s')
        .select('s.id')
        .whereRef('s.tenant_id', '=', 't.tenant_id')
        .where(sql<boolean>`s.device_keys && t.device_keys`)
        .orderBy('s.position')
        .limit(1)
        .as('flagged_by'),
      eb
        .selectFrom('task_comments as c')
        .select((e) => e.fn.countAll<string>().as('n'))
        .whereRef('c.task_id', '=', 't.id')
        .as('comment_count'),
    ])
}

function toView(r: TaskRow, latestRunId: string | null): TaskView {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    suggestionId: r.suggestion_id,
    status: WorkStatus.parse(r.status),
    assignee: r.assignee,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    completedAt: r.completed_at,
    suggestion: Suggestion.parse(r.suggestion),
    deviceIds: DeviceIds.parse(r.device_ids),
    // The suggestions table holds exactly the latest completed run's set, so a match there is a match in that run.
    stillFlagged: latestRunId !== null && r.flagged_by !== null,
    flaggedBy: latestRunId !== null ? r.flagged_by : null,
    latestRunId,
    commentCount: Number(r.comment_count ?? 0),
    comments: [],
  }
}

export const TaskFilter = z.object({ status: WorkStatus.optional(), assignee: z.string().optional() })
export type TaskFilter = z.infer<typeof TaskFilter>

export async function listTasks(
  store: Store,
  actor: string,
  tenantId: string,
  filter: TaskFilter = {},
): Promise<TaskView[]> {
  const f = parseInput(TaskFilter, filter, 'filter')
  await authorize(store, actor, 'view', { tenantId })
  let q = selectTasks(store.db).where('t.tenant_id', '=', tenantId)
  if (f.status) q = q.where('t.status', '=', f.status)
  if (f.assignee) q = q.where('t.assignee', '=', f.assignee.toLowerCase())
  const rows = await q.orderBy('t.id').execute()
  const latest = await latestCompletedRun(store.db, tenantId)
  return rows.map((r) => toView(r, latest?.id ?? null))
}

export async function getTask(store: Store, actor: string, taskId: number | string): Promise<TaskView> {
  const id = parseInput(TaskId, taskId, 'task id')
  const tenantId = await taskTenant(store.db, id)
  await authorize(store, actor, 'view', { tenantId })
  return loadTask(store.db, id, true)
}

async function loadTask(db: Kysely<Database>, id: number, withComments: boolean): Promise<TaskView> {
  const row = await selectTasks(db).where('t.id', '=', id).executeTakeFirst()
  if (!row) throw taskNotFound(id)
  const latest = await latestCompletedRun(db, row.tenant_id)
  const view = toView(row, latest?.id ?? null)
  if (withComments) {
    view.comments = await db
      .selectFrom('task_comments')
      .select(['id', 'author', 'at', 'text'])
      .where('task_id', '=', id)
      .orderBy('id')
      .execute()
  }
  return view
}

function taskNotFound(id: number): NotFoundError {
  return new NotFoundError(`task ${id} does not exist.`, "List tasks with 'offboard tasks'.")
}

async function taskTenant(db: Kysely<Database>, id: number): Promise<string> {
  const row = await db.selectFrom('tasks').select('tenant_id').where('id', '=', id).executeTakeFirst()
  if (!row) throw taskNotFound(id)
  return row.tenant_id
}

/** Adds a current suggestion to Tasks, copying it. A suggestion has at most one open task. */
export async function addTask(
  store: Store,
  actor: string,
  tenantId: string,
  suggestionId: string,
): Promise<TaskView> {
  await authorize(store, actor, 'editTasks', { tenantId })
  const at = store.clock()
  const id = await store.db.transaction().execute(async (tx) => {
    const s = await findSuggestionRow(tx, tenantId, suggestionId)
    const suggestion = Suggestion.parse(s.suggestion)
    const open = await tx
      .selectFrom('tasks')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('suggestion_id', '=', s.id)
      .where('status', '<>', 'completed')
      .executeTakeFirst()
    if (open) throw alreadyOpen(s.id, open.id)
    const task = await tx
      .insertInto('tasks')
      .values({
        tenant_id: tenantId,
        suggestion_id: s.id,
        suggestion: JSON.stringify(suggestion),
        device_ids: JSON.stringify(suggestion.device.ids),
        device_keys: deviceKeys(suggestion.device),
        status: s.status,
        assignee: s.assignee,
        created_by: actor,
        created_at: at,
        updated_at: at,
        completed_at: s.status === 'completed' ? at : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await tx
      .updateTable('suggestions')
      .set({ task_id: task.id })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', s.id)
      .execute()
    await appendAudit(tx, at, {
      actor,
      action: 'task.add',
      tenantId,
      target: `task ${task.id}`,
      after: {
        suggestionId: s.id,
        device: suggestion.device.displayName,
        status: s.status,
        assignee: s.assignee,
      },
      result: 'ok',
    })
    return task.id
  })
  return loadTask(store.db, id, true)
}

function alreadyOpen(suggestionId: string, taskId: number): ConflictError {
  return new ConflictError(
    `suggestion ${suggestionId} is already in Tasks as task ${taskId}.`,
    `See it with 'offboard task show ${taskId}'.`,
  )
}

/** Assigns a task (null unassigns). Once users are set up, the assignee must be one of them. */
export async function assignTask(
  store: Store,
  actor: string,
  taskId: number | string,
  assignee: string | null,
): Promise<TaskView> {
  const name = assignee === null ? null : parseInput(UserName, assignee, 'assignee')
  return changeTask(store, actor, taskId, 'task.assign', async (tx, task) => {
    if (name !== null) await assertAssignable(tx, name)
    return { assignee: name, changes: { before: { assignee: task.assignee }, after: { assignee: name } } }
  })
}

export async function setTaskStatus(
  store: Store,
  actor: string,
  taskId: number | string,
  status: WorkStatus,
): Promise<TaskView> {
  const s = parseInput(WorkStatus, status, 'task status')
  return changeTask(store, actor, taskId, 'task.status', async (_tx, task) => ({
    status: s,
    changes: { before: { status: task.status }, after: { status: s } },
  }))
}

export function completeTask(store: Store, actor: string, taskId: number | string): Promise<TaskView> {
  return setTaskStatus(store, actor, taskId, 'completed')
}

export async function commentTask(
  store: Store,
  actor: string,
  taskId: number | string,
  text: string,
): Promise<TaskView> {
  const body = parseInput(CommentText, text, 'comment')
  return changeTask(store, actor, taskId, 'task.comment', async (tx, task, at) => {
    await tx.insertInto('task_comments').values({ task_id: task.id, author: actor, at, text: body }).execute()
    return { changes: { after: { comment: body } } }
  })
}

interface TaskChange {
  status?: WorkStatus
  assignee?: string | null
  changes: { before?: unknown; after: unknown }
}

/**
 * One change to a task, in one transaction with its audit entry; status and assignee are mirrored onto the
 * current suggestion with the same id, so the suggestions list shows the work in progress.
 */
async function changeTask(
  store: Store,
  actor: string,
  taskId: number | string,
  action: 'task.assign' | 'task.status' | 'task.comment',
  change: (tx: Kysely<Database>, task: Selectable<TasksTable>, at: Date) => Promise<TaskChange>,
): Promise<TaskView> {
  const id = parseInput(TaskId, taskId, 'task id')
  const tenantId = await taskTenant(store.db, id)
  await authorize(store, actor, 'editTasks', { tenantId })
  const at = store.clock()
  await store.db.transaction().execute(async (tx) => {
    const task = await tx.selectFrom('tasks').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
    if (!task) throw taskNotFound(id)
    const c = await change(tx, task, at)
    const set: { updated_at: Date; status?: string; assignee?: string | null; completed_at?: Date | null } = {
      updated_at: at,
    }
    if (c.status !== undefined && c.status !== task.status) {
      // Reopening a completed task must not collide with a newer open task for the same suggestion.
      if (task.status === 'completed') {
        const open = await tx
          .selectFrom('tasks')
          .select('id')
          .where('tenant_id', '=', task.tenant_id)
          .where('suggestion_id', '=', task.suggestion_id)
          .where('status', '<>', 'completed')
          .executeTakeFirst()
        if (open) throw alreadyOpen(task.suggestion_id, open.id)
      }
      set.status = c.status
      set.completed_at = c.status === 'completed' ? at : null
    }
    if (c.assignee !== undefined) set.assignee = c.assignee
    await tx.updateTable('tasks').set(set).where('id', '=', id).execute()
    if (set.status !== undefined || set.assignee !== undefined) {
      await tx
        .updateTable('suggestions')
        .set({
          ...(set.status !== undefined ? { status: set.status } : {}),
          ...(set.assignee !== undefined ? { assignee: set.assignee } : {}),
          task_id: id,
        })
        .where('tenant_id', '=', task.tenant_id)
        .where('id', '=', task.suggestion_id)
        .execute()
    }
    await appendAudit(tx, at, {
      actor,
      action,
      tenantId: task.tenant_id,
      target: `task ${id}`,
      before: c.changes.before,
      after: c.changes.after,
      result: 'ok',
    })
  })
  return loadTask(store.db, id, true)
}

async function assertAssignable(tx: Kysely<Database>, name: string): Promise<void> {
  const users = await tx.selectFrom('users').select('name').execute()
  if (users.length > 0 && !users.some((u) => u.name === name))
    throw new NotFoundError(
      `cannot assign to ${name}: no such user.`,
      `Add them first: offboard user add ${name} --role reader (list users with 'offboard users').`,
    )
}
