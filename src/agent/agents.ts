/**
 * @module The agent: one per tenant, set up under an admin identity (who, which tenant, how it signs in), with a
 * schedule and custom instructions. The identity expires after 90 consecutive days without a run, as Microsoft's
 * Device Offboarding Agent does; an administrator renews it.
 */
import type { Kysely, Selectable } from 'kysely'
import { z } from 'zod'
import { DAY_MS } from '../domain/time.js'
import { AUTH_METHODS } from '../lib/config.js'
import type { AgentsTable, Database } from '../store/schema.js'
import type { Store } from '../store/store.js'
import { appendAudit } from './audit.js'
import { AgentExpiredError, ConflictError, NotFoundError, parseInput } from './errors.js'
import { DEFAULT_SCHEDULE_HOURS, IDENTITY_IDLE_DAYS, Instructions, ScheduleHours, TenantId } from './model.js'
import { authorize, bootstrapAdmin } from './roles.js'

export {
  DEFAULT_SCHEDULE_HOURS,
  IDENTITY_IDLE_DAYS,
  Instructions,
  MAX_INSTRUCTIONS_CHARS,
  MAX_SCHEDULE_HOURS,
  ScheduleHours,
  TenantId,
} from './model.js'

export const AgentInput = z.object({
  tenantId: TenantId,
  adminUpn: z
    .string()
    .trim()
    .regex(/^[^@\s]+@[^@\s]+$/, 'the admin identity is a user principal name such as admin@contoso.com'),
  authMethod: z.enum(AUTH_METHODS).default('deviceCode'),
  /** The application (client) id; secrets never reach the store (they stay in the environment). */
  clientId: z.string().trim().min(1).nullable().default(null),
  instructions: Instructions.default(''),
  scheduleHours: ScheduleHours.default(DEFAULT_SCHEDULE_HOURS),
})
export type AgentInput = z.input<typeof AgentInput>

export interface AgentView {
  tenantId: string
  adminUpn: string
  authMethod: string
  clientId: string | null
  instructions: string
  scheduleHours: number
  createdBy: string
  createdAt: Date
  renewedAt: Date
  lastRunAt: Date | null
  /** The identity stops working after this instant unless a run or a renewal comes first. */
  expiresAt: Date
  expired: boolean
  /** When `offboard serve` will start the next scheduled run; null while no scheduler runs. */
  nextRunAt: Date | null
  scheduledBy: string | null
  runningRun: { id: string; startedAt: Date; trigger: string; actor: string } | null
  lastRun: {
    id: string
    status: string
    startedAt: Date
    finishedAt: Date | null
    error: string | null
  } | null
}

type AgentRow = Selectable<AgentsTable>

/** 90 consecutive days after the latest of creation, renewal and run. */
export function identityExpiry(agent: Pick<AgentRow, 'renewed_at' | 'last_run_at'>): Date {
  const last = Math.max(agent.renewed_at.getTime(), agent.last_run_at?.getTime() ?? 0)
  return new Date(last + IDENTITY_IDLE_DAYS * DAY_MS)
}

/** @throws AgentExpiredError with the renew command, when the identity went 90 days without a run. */
export function assertAgentUsable(
  agent: Pick<AgentRow, 'tenant_id' | 'renewed_at' | 'last_run_at'>,
  now: Date,
): void {
  const expiresAt = identityExpiry(agent)
  if (now.getTime() > expiresAt.getTime()) throw new AgentExpiredError(agent.tenant_id, expiresAt)
}

export async function findAgent(db: Kysely<Database>, tenantId: string): Promise<AgentRow | undefined> {
  return db
    .selectFrom('agents')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('removed_at', 'is', null)
    .executeTakeFirst()
}

export async function ensureTenant(db: Kysely<Database>, tenantId: string, at: Date): Promise<void> {
  await db
    .insertInto('tenants')
    .values({ id: tenantId, created_at: at })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute()
}

/**
 * Sets up the agent for a tenant. One per tenant: a second is refused. When no user exists yet, the caller
 * becomes the first administrator.
 */
export async function createAgent(store: Store, actor: string, input: AgentInput): Promise<AgentView> {
  const a = parseInput(AgentInput, input, 'agent settings')
  await authorize(store, actor, 'configureAgent', { tenantId: a.tenantId })
  const at = store.clock()
  try {
    await store.db.transaction().execute(async (tx) => {
      await bootstrapAdmin(tx, actor, at)
      await ensureTenant(tx, a.tenantId, at)
      const existing = await findAgent(tx, a.tenantId)
      if (existing) throw agentExists(a.tenantId, existing.admin_upn)
      await tx
        .insertInto('agents')
        .values({
          tenant_id: a.tenantId,
          admin_upn: a.adminUpn,
          auth_method: a.authMethod,
          client_id: a.clientId,
          instructions: a.instructions,
          schedule_hours: a.scheduleHours,
          created_by: actor,
          created_at: at,
          renewed_at: at,
        })
        .execute()
      await appendAudit(tx, at, {
        actor,
        action: 'agent.create',
        tenantId: a.tenantId,
        target: a.tenantId,
        after: {
          adminUpn: a.adminUpn,
          authMethod: a.authMethod,
          clientId: a.clientId,
          scheduleHours: a.scheduleHours,
          instructions: a.instructions,
        },
        result: 'ok',
      })
    })
  } catch (err) {
    // Two creators racing: the partial unique index refuses the second.
    if (isUniqueViolation(err, 'agents_one_per_tenant')) {
      const existing = await findAgent(store.db, a.tenantId)
      throw agentExists(a.tenantId, existing?.admin_upn ?? 'another admin')
    }
    throw err
  }
  return view(store, a.tenantId)
}

function agentExists(tenantId: string, adminUpn: string): ConflictError {
  return new ConflictError(
    `tenant ${tenantId} already has an agent (admin identity ${adminUpn}); there is one agent per tenant.`,
    `See it with 'offboard agent show --tenant ${tenantId}', or remove it first with 'offboard agent remove --tenant ${tenantId}'.`,
  )
}

export async function showAgent(store: Store, actor: string, tenantId: string): Promise<AgentView> {
  await authorize(store, actor, 'view', { tenantId })
  return view(store, tenantId)
}

/** Renews the identity: the 90 days start again now, expired or not. */
export async function renewAgent(store: Store, actor: string, tenantId: string): Promise<AgentView> {
  await authorize(store, actor, 'configureAgent', { tenantId })
  const at = store.clock()
  await store.db.transaction().execute(async (tx) => {
    const agent = await requireAgent(tx, tenantId)
    await tx.updateTable('agents').set({ renewed_at: at }).where('id', '=', agent.id).execute()
    await appendAudit(tx, at, {
      actor,
      action: 'agent.renew',
      tenantId,
      target: tenantId,
      before: { expiresAt: identityExpiry(agent).toISOString() },
      after: { expiresAt: identityExpiry({ ...agent, renewed_at: at }).toISOString() },
      result: 'ok',
    })
  })
  return view(store, tenantId)
}

/** Removes the agent. Runs, suggestions, tasks and the audit log stay: the tenant's history is not the agent's. */
export async function removeAgent(store: Store, actor: string, tenantId: string): Promise<AgentView> {
  await authorize(store, actor, 'configureAgent', { tenantId })
  const before = await view(store, tenantId)
  const at = store.clock()
  await store.db.transaction().execute(async (tx) => {
    const agent = await requireAgent(tx, tenantId)
    await tx
      .updateTable('agents')
      .set({ removed_at: at, next_run_at: null, scheduled_by: null })
      .where('id', '=', agent.id)
      .execute()
    await appendAudit(tx, at, {
      actor,
      action: 'agent.remove',
      tenantId,
      target: tenantId,
      before: { adminUpn: agent.admin_upn, authMethod: agent.auth_method, clientId: agent.client_id },
      result: 'ok',
    })
  })
  return before
}

/** Replaces the custom instructions applied to every run (plain text for now). */
export async function setInstructions(
  store: Store,
  actor: string,
  tenantId: string,
  text: string,
): Promise<AgentView> {
  const instructions = parseInput(Instructions, text, 'instructions')
  await authorize(store, actor, 'configureAgent', { tenantId })
  const at = store.clock()
  await store.db.transaction().execute(async (tx) => {
    const agent = await requireAgent(tx, tenantId)
    await tx.updateTable('agents').set({ instructions }).where('id', '=', agent.id).execute()
    await appendAudit(tx, at, {
      actor,
      action: 'agent.instructions',
      tenantId,
      target: tenantId,
      before: { instructions: agent.instructions },
      after: { instructions },
      result: 'ok',
    })
  })
  return view(store, tenantId)
}

/** Changes how often `offboard serve` runs the agent. */
export async function setSchedule(
  store: Store,
  actor: string,
  tenantId: string,
  hours: number,
): Promise<AgentView> {
  const scheduleHours = parseInput(ScheduleHours, hours, 'schedule')
  await authorize(store, actor, 'configureAgent', { tenantId })
  const at = store.clock()
  await store.db.transaction().execute(async (tx) => {
    const agent = await requireAgent(tx, tenantId)
    await tx.updateTable('agents').set({ schedule_hours: scheduleHours }).where('id', '=', agent.id).execute()
    await appendAudit(tx, at, {
      actor,
      action: 'agent.schedule',
      tenantId,
      target: tenantId,
      before: { scheduleHours: agent.schedule_hours },
      after: { scheduleHours },
      result: 'ok',
    })
  })
  return view(store, tenantId)
}

async function requireAgent(db: Kysely<Database>, tenantId: string): Promise<AgentRow> {
  const agent = await findAgent(db, tenantId)
  if (!agent)
    throw new NotFoundError(
      `tenant ${tenantId} has no agent.`,
      `Set one up with 'offboard agent create --tenant ${tenantId} --admin <upn>'.`,
    )
  return agent
}

async function view(store: Store, tenantId: string): Promise<AgentView> {
  const agent = await requireAgent(store.db, tenantId)
  const runs = await store.db
    .selectFrom('runs')
    .select(['id', 'status', 'trigger', 'actor', 'started_at', 'finished_at', 'error'])
    .where('tenant_id', '=', tenantId)
    .orderBy('ordinal', 'desc')
    .limit(2)
    .execute()
  const running = runs.find((r) => r.status === 'running')
  const last = runs.find((r) => r.status !== 'running')
  const expiresAt = identityExpiry(agent)
  return {
    tenantId: agent.tenant_id,
    adminUpn: agent.admin_upn,
    authMethod: agent.auth_method,
    clientId: agent.client_id,
    instructions: agent.instructions,
    scheduleHours: agent.schedule_hours,
    createdBy: agent.created_by,
    createdAt: agent.created_at,
    renewedAt: agent.renewed_at,
    lastRunAt: agent.last_run_at,
    expiresAt,
    expired: store.clock().getTime() > expiresAt.getTime(),
    nextRunAt: agent.next_run_at,
    scheduledBy: agent.scheduled_by,
    runningRun: running
      ? { id: running.id, startedAt: running.started_at, trigger: running.trigger, actor: running.actor }
      : null,
    lastRun: last
      ? {
          id: last.id,
          status: last.status,
          startedAt: last.started_at,
          finishedAt: last.finished_at,
          error: last.error,
        }
      : null,
  }
}

/** True for PostgreSQL's unique_violation on the named constraint or index (same code on PGlite). */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string } | null
  return e?.code === '23505' && e.constraint === constraint
}
