/**
 * @module The agent's names, limits and input schemas, free of database code: the commands load this at start-up
 * (`offboard --help` must stay fast) and the services behind them only when a command runs.
 */
import { userInfo } from 'node:os'
import { z } from 'zod'

export const IDENTITY_IDLE_DAYS = 90
export const DEFAULT_SCHEDULE_HOURS = 24
/** A month: beyond that a "schedule" is no longer one, and the identity would expire between runs. */
export const MAX_SCHEDULE_HOURS = 24 * 30
export const MAX_INSTRUCTIONS_CHARS = 10_000

export const TenantId = z
  .string()
  .trim()
  .min(1, 'a tenant id cannot be empty')
  .max(200)
  .regex(/^[^\s]+$/, 'a tenant id cannot contain spaces')

export const Instructions = z
  .string()
  .max(MAX_INSTRUCTIONS_CHARS, `instructions are limited to ${MAX_INSTRUCTIONS_CHARS} characters`)

export const ScheduleHours = z
  .number()
  .int()
  .min(1, 'the schedule is at least every hour')
  .max(MAX_SCHEDULE_HOURS, `the schedule is at most every ${MAX_SCHEDULE_HOURS} hours`)

/** The status of a suggestion and of a task: the three states of Microsoft's Tasks page. */
export const WorkStatus = z.enum(['notStarted', 'inProgress', 'completed'])
export type WorkStatus = z.infer<typeof WorkStatus>

export const ROLES = ['reader', 'actor', 'admin'] as const
export const Role = z.enum(ROLES)
export type Role = z.infer<typeof Role>

export const PERMISSIONS = [
  'view',
  'run',
  'editTasks',
  'disableDevices',
  'configureAgent',
  'manageUsers',
] as const
export type Permission = (typeof PERMISSIONS)[number]

/**
 * Tasks are offboard's own tracking, not a change to the tenant, so a reader may keep them (Microsoft's "mark a
 * suggestion as complete" needs no more than the roles to view).
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  reader: ['view', 'run', 'editTasks'],
  actor: ['view', 'run', 'editTasks', 'disableDevices'],
  admin: ['view', 'run', 'editTasks', 'disableDevices', 'configureAgent', 'manageUsers'],
}

export const ROLE_DESCRIPTIONS: Readonly<Record<Role, string>> = {
  reader: 'view and run (Intune Read Only Operator + Entra Security Reader)',
  actor: 'reader + act on Entra devices (Entra "Disable devices")',
  admin: 'actor + configure the agent and manage users',
}

/** The principal of scheduled runs (`offboard serve`): it may view and run, nothing else. Not a user name. */
export const SCHEDULER_ACTOR = 'offboard-scheduler'
/** The principal of housekeeping (marking a dead process's run failed). Not a user name. */
export const SYSTEM_ACTOR = 'offboard'
export const SYSTEM_PERMISSIONS: Readonly<Record<string, readonly Permission[]>> = {
  [SCHEDULER_ACTOR]: ['view', 'run'],
  [SYSTEM_ACTOR]: [],
}

/**
 * Before any user exists the store is in single-user set-up: anyone may view, run and set things up (the first
 * `agent create` or `user add` makes the caller admin). Acting on the tenant is never open: it needs a user.
 */
export const OPEN_PERMISSIONS: readonly Permission[] = [
  'view',
  'run',
  'editTasks',
  'configureAgent',
  'manageUsers',
]

export const ENV_USER = 'OFFBOARD_USER'

export const UserName = z
  .string()
  .trim()
  .min(1, 'a user name cannot be empty')
  .max(256)
  .regex(/^[^\s]+$/, 'a user name cannot contain spaces')
  .transform((s) => s.toLowerCase())
  .refine((s) => !(s in SYSTEM_PERMISSIONS), { message: 'this name is reserved for offboard itself' })

/** The acting user: OFFBOARD_USER, else the operating-system user. Lower-cased (UPNs are case-insensitive). */
export function currentActor(env: NodeJS.ProcessEnv = process.env): string {
  const name = env[ENV_USER]?.trim() || safeOsUser()
  return name.toLowerCase()
}

function safeOsUser(): string {
  try {
    return userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}
