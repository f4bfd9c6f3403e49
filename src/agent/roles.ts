/**
 * @module Users, roles and the one authorization check every entry point goes through. Roles follow the
 * permissions Microsoft's Device Offboarding Agent names: viewing and running need Intune Read Only Operator and
 * Entra Security Reader (`reader`); disabling devices needs Entra's "Disable devices" (`actor`); configuring the
 * agent is an administrator's (`admin`).
 */
import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../store/schema.js'
import type { Store } from '../store/store.js'
import { appendAudit } from './audit.js'
import { ConflictError, NotFoundError, PermissionDenied, parseInput } from './errors.js'
import {
  ENV_USER,
  OPEN_PERMISSIONS,
  type Permission,
  ROLE_PERMISSIONS,
  ROLES,
  Role,
  SYSTEM_PERMISSIONS,
  UserName,
} from './model.js'

export {
  currentActor,
  ENV_USER,
  PERMISSIONS,
  type Permission,
  ROLE_DESCRIPTIONS,
  ROLE_PERMISSIONS,
  ROLES,
  Role,
  SCHEDULER_ACTOR,
  SYSTEM_ACTOR,
  UserName,
} from './model.js'

export interface Authorization {
  actor: string
  role: Role | null
  /** No users exist yet: the set-up mode. */
  open: boolean
}

/**
 * The one permission check. Every service calls it before doing anything, whatever the entry point (CLI, serve,
 * later the API). A denial is written to the audit log, then thrown.
 * @throws PermissionDenied with what was refused, to whom, and how to get access.
 */
export async function authorize(
  store: Store,
  actor: string,
  permission: Permission,
  ctx: { tenantId?: string | null } = {},
): Promise<Authorization> {
  const system = SYSTEM_PERMISSIONS[actor]
  if (system) {
    if (system.includes(permission)) return { actor, role: null, open: false }
    return deny(
      store,
      actor,
      permission,
      null,
      ctx,
      `${actor} is offboard's own principal and may not ${PERMISSION_VERBS[permission]}.`,
    )
  }
  const user = await store.db
    .selectFrom('users')
    .select(['role'])
    .where('name', '=', actor)
    .executeTakeFirst()
  if (user) {
    const role = Role.parse(user.role)
    if (ROLE_PERMISSIONS[role].includes(permission)) return { actor, role, open: false }
    const needed = neededRole(permission)
    return deny(
      store,
      actor,
      permission,
      role,
      ctx,
      `user ${actor} (role ${role}) may not ${PERMISSION_VERBS[permission]}; that needs the ${needed} role.`,
      `An administrator can grant it: offboard user role ${actor} ${needed}`,
    )
  }
  const users = await countUsers(store.db)
  if (users === 0) {
    if (OPEN_PERMISSIONS.includes(permission)) return { actor, role: null, open: true }
    return deny(
      store,
      actor,
      permission,
      null,
      ctx,
      `no users are set up, and to ${PERMISSION_VERBS[permission]} needs a user with the actor or admin role.`,
      `Add yourself first: offboard user add ${actor} --role admin (the first user added becomes an administrator).`,
    )
  }
  return deny(
    store,
    actor,
    permission,
    null,
    ctx,
    `user ${actor} is not known to offboard, so may not ${PERMISSION_VERBS[permission]}.`,
    `An administrator can add them: offboard user add ${actor} --role ${neededRole(permission)} (set ${ENV_USER} to act as another user).`,
  )
}

/** The least role that holds a permission. */
function neededRole(permission: Permission): Role {
  return ROLES.find((r) => ROLE_PERMISSIONS[r].includes(permission)) ?? 'admin'
}

const PERMISSION_VERBS: Readonly<Record<Permission, string>> = {
  view: 'view results',
  run: 'run the agent',
  editTasks: 'change tasks',
  disableDevices: 'disable devices',
  configureAgent: 'configure the agent',
  manageUsers: 'manage users',
}

async function deny(
  store: Store,
  actor: string,
  permission: Permission,
  role: Role | null,
  ctx: { tenantId?: string | null },
  message: string,
  hint?: string,
): Promise<never> {
  await appendAudit(store.db, store.clock(), {
    actor,
    action: 'permission.denied',
    tenantId: ctx.tenantId ?? null,
    target: permission,
    after: { role },
    result: 'denied',
  })
  throw new PermissionDenied(message, actor, permission, hint)
}

async function countUsers(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  // count(*) is a bigint, which node-postgres returns as a string on both backends.
  return Number(row.n)
}

/**
 * Set-up mode ends here: when no user exists, the caller becomes the first administrator, in the transaction of
 * the change that needed it (so a failed `agent create` does not leave an admin behind).
 */
export async function bootstrapAdmin(tx: Kysely<Database>, actor: string, at: Date): Promise<boolean> {
  if ((await countUsers(tx)) > 0) return false
  await tx
    .insertInto('users')
    .values({ name: actor, role: 'admin', created_by: actor, created_at: at })
    .execute()
  await appendAudit(tx, at, {
    actor,
    action: 'user.add',
    target: actor,
    after: { role: 'admin', reason: 'first user: set-up' },
    result: 'ok',
  })
  return true
}

export interface UserView {
  name: string
  role: Role
  createdBy: string
  createdAt: Date
}

export async function listUsers(store: Store, actor: string): Promise<UserView[]> {
  await authorize(store, actor, 'view')
  const rows = await store.db.selectFrom('users').selectAll().orderBy('name').execute()
  return rows.map((r) => ({
    name: r.name,
    role: Role.parse(r.role),
    createdBy: r.created_by,
    createdAt: r.created_at,
  }))
}

/** Adds a user. When none exists yet, the caller is first made admin (unless they are the one being added). */
export async function addUser(store: Store, actor: string, name: string, role: Role): Promise<UserView> {
  await authorize(store, actor, 'manageUsers')
  const user = parseInput(UserName, name, 'user name')
  const at = store.clock()
  return store.db.transaction().execute(async (tx) => {
    const first = (await countUsers(tx)) === 0
    if (first && user !== actor) await bootstrapAdmin(tx, actor, at)
    const existing = await tx.selectFrom('users').select('role').where('name', '=', user).executeTakeFirst()
    if (existing)
      throw new ConflictError(
        `user ${user} already exists (role ${existing.role}).`,
        `Change the role with: offboard user role ${user} <role>`,
      )
    // The very first user is an administrator whatever was asked: otherwise nobody could manage users afterwards.
    const granted: Role = first && user === actor ? 'admin' : role
    await tx
      .insertInto('users')
      .values({ name: user, role: granted, created_by: actor, created_at: at })
      .execute()
    await appendAudit(tx, at, {
      actor,
      action: 'user.add',
      target: user,
      after: { role: granted },
      result: 'ok',
    })
    return { name: user, role: granted, createdBy: actor, createdAt: at }
  })
}

/** The user's row, locked for the rest of the transaction. @throws NotFoundError with `hint` when there is none. */
async function lockUser(tx: Transaction<Database>, user: string, hint: string) {
  const existing = await tx
    .selectFrom('users')
    .selectAll()
    .where('name', '=', user)
    .forUpdate()
    .executeTakeFirst()
  if (!existing) throw new NotFoundError(`user ${user} does not exist.`, hint)
  return existing
}

export async function setUserRole(store: Store, actor: string, name: string, role: Role): Promise<UserView> {
  await authorize(store, actor, 'manageUsers')
  const user = parseInput(UserName, name, 'user name')
  const at = store.clock()
  return store.db.transaction().execute(async (tx) => {
    const existing = await lockUser(tx, user, `Add them: offboard user add ${user} --role ${role}`)
    if (existing.role === 'admin' && role !== 'admin') await assertAnotherAdmin(tx, user)
    await tx.updateTable('users').set({ role }).where('name', '=', user).execute()
    await appendAudit(tx, at, {
      actor,
      action: 'user.role',
      target: user,
      before: { role: existing.role },
      after: { role },
      result: 'ok',
    })
    return { name: user, role, createdBy: existing.created_by, createdAt: existing.created_at }
  })
}

export async function removeUser(store: Store, actor: string, name: string): Promise<void> {
  await authorize(store, actor, 'manageUsers')
  const user = parseInput(UserName, name, 'user name')
  const at = store.clock()
  await store.db.transaction().execute(async (tx) => {
    const existing = await lockUser(tx, user, "List users with 'offboard users'.")
    if (existing.role === 'admin') await assertAnotherAdmin(tx, user)
    await tx.deleteFrom('users').where('name', '=', user).execute()
    await appendAudit(tx, at, {
      actor,
      action: 'user.remove',
      target: user,
      before: { role: existing.role },
      result: 'ok',
    })
  })
}

async function assertAnotherAdmin(tx: Kysely<Database>, user: string): Promise<void> {
  const others = await tx
    .selectFrom('users')
    .select('name')
    .where('role', '=', 'admin')
    .where('name', '<>', user)
    .limit(1)
    .execute()
  if (others.length === 0)
    throw new ConflictError(
      `user ${user} is the last administrator; removing that role would leave nobody able to manage offboard.`,
      'Make another user admin first: offboard user role <name> admin',
    )
}
