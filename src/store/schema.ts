/** @module The store's tables as Kysely types: one description shared by the embedded (PGlite) and server (PostgreSQL) backends. */
import type { ColumnType, Generated } from 'kysely'

/** `timestamptz`: node-postgres returns a Date on both backends; writes take a Date from the injected clock, never `now()`. */
type Timestamp = ColumnType<Date, Date, Date>
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>
/**
 * `jsonb`: written as JSON text (node-postgres would turn a JS array into a PostgreSQL array literal), read back
 * parsed. Reads are `unknown` on purpose: every value is validated with zod where it leaves the store.
 */
type Jsonb = ColumnType<unknown, string, string>
/** `json`: the same to read and write; PostgreSQL keeps the text as given (validated) instead of converting it. */
type Json = ColumnType<unknown, string, string>
type NullableJsonb = ColumnType<unknown, string | null | undefined, string | null>
type TextArray = ColumnType<string[], string[], string[]>

export interface MigrationsTable {
  version: number
  name: string
  applied_at: Timestamp
}

export interface TenantsTable {
  id: string
  created_at: Timestamp
}

export interface AgentsTable {
  id: Generated<number>
  /** Unique among agents that are not removed (a partial unique index): one agent per tenant. */
  tenant_id: string
  admin_upn: string
  auth_method: string
  /** The application (client) id; secrets are never stored. */
  client_id: string | null
  instructions: string
  schedule_hours: number
  created_by: string
  created_at: Timestamp
  renewed_at: Timestamp
  last_run_at: NullableTimestamp
  removed_at: NullableTimestamp
  /** Set by `offboard serve` while it schedules this tenant, so `agent show` can tell when the next run is. */
  next_run_at: NullableTimestamp
  scheduled_by: ColumnType<string | null, string | null | undefined, string | null>
}

export interface UsersTable {
  /** Lower-cased: user principal names are case-insensitive. */
  name: string
  role: string
  created_by: string
  created_at: Timestamp
}

export interface RunsTable {
  id: string
  ordinal: Generated<number>
  tenant_id: string
  trigger: string
  status: string
  actor: string
  started_at: Timestamp
  finished_at: NullableTimestamp
  pid: number
  host: string
  error: ColumnType<string | null, string | null | undefined, string | null>
  /** The agent's custom instructions as they were when the run started. */
  instructions: ColumnType<string | null, string | null | undefined, string | null>
  summary: NullableJsonb
  device_count: ColumnType<number | null, number | null | undefined, number | null>
  suggestion_count: ColumnType<number | null, number | null | undefined, number | null>
  skipped_count: ColumnType<number | null, number | null | undefined, number | null>
  undetermined_count: ColumnType<number | null, number | null | undefined, number | null>
}

export interface SuggestionsTable {
  tenant_id: string
  /** The report's deterministic suggestion id. */
  id: string
  run_id: string
  /** Order within the report, so listings keep the report's order. */
  position: number
  category: string
  severity: string
  platform: string
  display_name: string | null
  /** The report's suggestion, device included (`json` since migration 5: only ever read whole). */
  suggestion: Json
  /** `source:id` of every record of the device, for matching tasks by stable ids (`&&`, GIN-indexed). */
  device_keys: TextArray
  status: string
  assignee: string | null
  task_id: number | null
  first_seen_at: Timestamp
}

export interface TasksTable {
  id: Generated<number>
  tenant_id: string
  suggestion_id: string
  /** A copy of the suggestion when the task was added: tasks survive re-runs that drop the suggestion. */
  suggestion: Jsonb
  device_ids: Jsonb
  device_keys: TextArray
  status: string
  assignee: string | null
  created_by: string
  created_at: Timestamp
  updated_at: Timestamp
  completed_at: NullableTimestamp
}

export interface TaskCommentsTable {
  id: Generated<number>
  task_id: number
  author: string
  at: Timestamp
  text: string
}

export interface AuditLogTable {
  seq: number
  at: Timestamp
  actor: string
  action: string
  tenant_id: string | null
  target: string | null
  before: NullableJsonb
  after: NullableJsonb
  result: string
  prev_hash: string
  hash: string
}

export interface ActsTable {
  id: string
  tenant_id: string
  /** The run whose suggestions the act carries out. */
  run_id: string
  actor: string
  status: string
  selection: Jsonb
  options: Jsonb
  started_at: Timestamp
  finished_at: NullableTimestamp
  error: ColumnType<string | null, string | null | undefined, string | null>
}

export interface ActionStepsTable {
  id: Generated<number>
  act_id: string
  tenant_id: string
  position: number
  suggestion_id: string
  system: string
  operation: string
  target: string
  target_name: string | null
  /** planned → sent → done | failed | skipped; a done step can become undone. */
  state: string
  before: NullableJsonb
  after: NullableJsonb
  error: ColumnType<string | null, string | null | undefined, string | null>
  attempt: ColumnType<number, number | undefined, number>
  created_at: Timestamp
  updated_at: Timestamp
}

/**
 * A run's suggestions, as "what changed since the last run" compares them (migration 6; before, a json list in
 * `runs`): kept for the latest two completed runs of a tenant only.
 */
export interface RunSuggestionsTable {
  run_id: string
  /** Order within the run's report. */
  position: number
  /** The suggestion's id. */
  id: string
  category: string
  name: string | null
  /** One stable id of the device (`kind:id`), to follow a device whose suggestion id changed with its plan. */
  device_key: string | null
}

export interface Database {
  offboard_migrations: MigrationsTable
  tenants: TenantsTable
  agents: AgentsTable
  users: UsersTable
  runs: RunsTable
  suggestions: SuggestionsTable
  run_suggestions: RunSuggestionsTable
  tasks: TasksTable
  task_comments: TaskCommentsTable
  audit_log: AuditLogTable
  acts: ActsTable
  action_steps: ActionStepsTable
}
