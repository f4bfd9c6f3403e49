/** @module Schema migrations: numbered, in code, applied on open inside one transaction and recorded in `offboard_migrations`. */
import { type Kysely, sql, type Transaction } from 'kysely'
import { ConfigError } from '../lib/errors.js'
import type { Database } from './schema.js'

export interface Migration {
  version: number
  name: string
  up(tx: Transaction<Database>): Promise<void>
}

/**
 * Serialises migrations between processes sharing one PostgreSQL database (two `offboard` commands started
 * together would otherwise both try to create the tables). Any constant works; this one spells "offb".
 */
const MIGRATION_LOCK_KEY = 0x6f666662

/**
 * Only PostgreSQL 15 features: PGlite is PostgreSQL 18 but CI's server is 15, so nothing newer may be used
 * (no `JSON_ARRAY()`, no `ANY_VALUE`, no `CREATE OR REPLACE TRIGGER` beyond 14's).
 * Never edit a released migration: add the next number.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    async up(tx) {
      await sql`
        create table tenants (
          id text primary key,
          created_at timestamptz not null
        );

        create table agents (
          id serial primary key,
          tenant_id text not null references tenants(id),
          admin_upn text not null,
          auth_method text not null,
          client_id text,
          instructions text not null default '',
          schedule_hours integer not null check (schedule_hours > 0),
          created_by text not null,
          created_at timestamptz not null,
          renewed_at timestamptz not null,
          last_run_at timestamptz,
          removed_at timestamptz,
          next_run_at timestamptz,
          scheduled_by text
        );
        -- One agent per tenant; removed agents stay for history.
        create unique index agents_one_per_tenant on agents (tenant_id) where removed_at is null;

        create table users (
          name text primary key check (name = lower(name)),
          role text not null check (role in ('reader', 'actor', 'admin')),
          created_by text not null,
          created_at timestamptz not null
        );

        create table runs (
          id text primary key,
          -- Start order: two runs can share a start instant (and ids are random), listings must still be stable.
          ordinal serial not null unique,
          tenant_id text not null references tenants(id),
          trigger text not null check (trigger in ('manual', 'schedule')),
          status text not null check (status in ('running', 'completed', 'failed')),
          actor text not null,
          started_at timestamptz not null,
          finished_at timestamptz,
          pid integer not null,
          host text not null,
          error text,
          instructions text,
          summary jsonb,
          device_count integer,
          suggestion_count integer,
          skipped_count integer,
          undetermined_count integer
        );
        -- One run at a time per tenant, enforced by the database so that two processes racing cannot both win.
        create unique index runs_one_running_per_tenant on runs (tenant_id) where status = 'running';
        create index runs_by_tenant on runs (tenant_id, ordinal desc);

        create table suggestions (
          tenant_id text not null references tenants(id),
          id text not null,
          run_id text not null references runs(id),
          position integer not null,
          category text not null,
          severity text not null,
          platform text not null,
          display_name text,
          device jsonb not null,
          suggestion jsonb not null,
          device_keys text[] not null,
          status text not null check (status in ('notStarted', 'inProgress', 'completed')),
          assignee text,
          task_id integer,
          first_seen_at timestamptz not null,
          primary key (tenant_id, id)
        );
        create index suggestions_device_keys on suggestions using gin (device_keys);

        create table tasks (
          id serial primary key,
          tenant_id text not null references tenants(id),
          suggestion_id text not null,
          suggestion jsonb not null,
          device_ids jsonb not null,
          device_keys text[] not null,
          status text not null check (status in ('notStarted', 'inProgress', 'completed')),
          assignee text,
          created_by text not null,
          created_at timestamptz not null,
          updated_at timestamptz not null,
          completed_at timestamptz
        );
        -- A suggestion can be in Tasks once at a time; after completion it may be added again if it comes back.
        create unique index tasks_one_open_per_suggestion on tasks (tenant_id, suggestion_id)
          where status <> 'completed';

        create table task_comments (
          id serial primary key,
          task_id integer not null references tasks(id),
          author text not null,
          at timestamptz not null,
          text text not null
        );
        create index task_comments_by_task on task_comments (task_id, id);

        create table audit_log (
          seq integer primary key check (seq > 0),
          at timestamptz not null,
          actor text not null,
          action text not null,
          tenant_id text,
          target text,
          before jsonb,
          after jsonb,
          result text not null,
          prev_hash text not null,
          hash text not null
        );
        create index audit_log_at on audit_log (at);

        -- Append-only as defence in depth: the hash chain detects tampering, this refuses the casual kind.
        -- The database owner can still disable the trigger, which is why the chain exists.
        create function offboard_audit_log_append_only() returns trigger language plpgsql as $$
        begin
          raise exception 'audit_log is append-only: % is not allowed', tg_op;
        end
        $$;
        create trigger audit_log_append_only before update or delete on audit_log
          for each row execute function offboard_audit_log_append_only();
        create trigger audit_log_no_truncate before truncate on audit_log
          for each statement execute function offboard_audit_log_append_only();
      `.execute(tx)
    },
  },
  {
    version: 2,
    name: 'acts and their write-ahead steps',
    async up(tx) {
      await sql`
        create table acts (
          id text primary key,
          tenant_id text not null references tenants(id),
          run_id text not null references runs(id),
          actor text not null,
          status text not null check (status in ('running', 'completed', 'failed')),
          selection jsonb not null,
          options jsonb not null,
          started_at timestamptz not null,
          finished_at timestamptz,
          error text
        );
        -- One unfinished act per tenant: a second would race the first over the same targets; resume it instead.
        create unique index acts_one_running_per_tenant on acts (tenant_id) where status = 'running';

        -- Write-ahead log of an act: a row is planned before any call, sent before its HTTP call, and
        -- done/failed/skipped after it, so a killed process can resume without repeating or skipping a call.
        create table action_steps (
          id serial primary key,
          act_id text not null references acts(id),
          tenant_id text not null references tenants(id),
          position integer not null,
          suggestion_id text not null,
          system text not null,
          operation text not null,
          target text not null,
          target_name text,
          state text not null check (state in ('planned', 'sent', 'done', 'failed', 'skipped', 'undone')),
          before jsonb,
          after jsonb,
          error text,
          attempt integer not null default 0,
          created_at timestamptz not null,
          updated_at timestamptz not null,
          unique (act_id, system, operation, target)
        );
        create index action_steps_by_act on action_steps (act_id, position);
      `.execute(tx)
    },
  },
  {
    version: 3,
    name: "runs keep a compact list of their suggestions, for 'what changed since the last run'",
    async up(tx) {
      // One jsonb value per run ([id, category, name, key] tuples), written in the run's own UPDATE: no extra
      // round trips for a million-device tenant. Only the latest two completed runs of a tenant keep theirs.
      await sql`alter table runs add column suggestion_list jsonb`.execute(tx)
    },
  },
  {
    version: 4,
    name: 'suggestion documents stored uncompressed',
    async up(tx) {
      // Every run rewrites all suggestions; compressing their JSON (pglz) was a large share of recording a run on
      // PGlite, for documents of a few KiB that disk space does not miss. EXTERNAL keeps out-of-line storage.
      await sql`alter table suggestions alter column device set storage external, alter column suggestion set storage external`.execute(
        tx,
      )
    },
  },
  {
    version: 5,
    name: 'suggestions kept as JSON text, without the unread device column, inline when they fit a page',
    async up(tx) {
      // Every run rewrites all of a tenant's suggestions, so what a row costs to write is what recording a run
      // costs. `device` was never read: the suggestion holds the device. The suggestion and the run's suggestion
      // list are only ever read whole and parsed in JavaScript, never queried inside, so `json` (text, validated)
      // replaces `jsonb` and its conversion to binary and back. Changing a type resets the column's storage to the
      // type's default (compressed), hence EXTERNAL again. toast_tuple_target 8160, the largest PostgreSQL takes,
      // keeps a suggestion in its row when the row fits a page instead of moving it to the TOAST table past 2 KiB:
      // one write instead of a row, chunks and their index entries.
      await sql`
        alter table suggestions drop column device;
        alter table suggestions alter column suggestion type json using suggestion::json;
        alter table suggestions alter column suggestion set storage external;
        alter table suggestions set (toast_tuple_target = 8160);
        alter table runs alter column suggestion_list type json using suggestion_list::json;
        alter table runs alter column suggestion_list set storage external;
      `.execute(tx)
    },
  },
  {
    version: 6,
    name: "a run's suggestion list kept as rows, written with its suggestions",
    async up(tx) {
      // The list was one json value per run, written by the run's UPDATE: at a million devices 21 MB, for which
      // PGlite's memory grew by about 110 MB (the parameter, the value, the row and its TOAST chunks, each copied in
      // WebAssembly memory, which never shrinks), and that was the run's peak of memory. Rows go through the COPY
      // that writes the suggestions, a batch at a time. No index: only the latest two completed runs of a tenant
      // keep their list, always read whole. A run's list is complete when it has `suggestion_count` rows; runs
      // recorded before migration 3 have none.
      await sql`
        create table run_suggestions (
          run_id text not null references runs(id),
          position integer not null,
          id text not null,
          category text not null,
          name text,
          device_key text
        );
        insert into run_suggestions (run_id, position, id, category, name, device_key)
          select r.id, (e.n - 1)::integer, e.v->>0, e.v->>1, e.v->>2, e.v->>3
          from runs r cross join lateral json_array_elements(r.suggestion_list) with ordinality as e(v, n)
          where r.suggestion_list is not null;
        alter table runs drop column suggestion_list;
      `.execute(tx)
    },
  },
]

/**
 * Applies every migration not yet recorded, in order, in one transaction (DDL is transactional in PostgreSQL,
 * so a failure leaves the schema as it was). Running it again is a no-op.
 * @param upTo the last version to apply (tests build a store as an older release left it); default all.
 * @returns the versions applied by this call.
 */
export async function migrate(db: Kysely<Database>, upTo = Number.POSITIVE_INFINITY): Promise<number[]> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(tx)
    await sql`
      create table if not exists offboard_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null
      )
    `.execute(tx)
    const done = new Set(
      (await tx.selectFrom('offboard_migrations').select('version').execute()).map((r) => r.version),
    )
    // A newer offboard changed the schema: this one would fail on a column it expects, half-way through a run.
    const known = MIGRATIONS[MIGRATIONS.length - 1]!.version
    const newest = Math.max(0, ...done)
    if (newest > known)
      throw new ConfigError(
        `the store's schema is at version ${newest}, written by a newer offboard; this one knows versions up to ${known} and does not use it. Nothing in it was changed.`,
        'Run the newer offboard on this store, or point OFFBOARD_DATA_DIR (or DATABASE_URL) at another one.',
      )
    const applied: number[] = []
    for (const m of MIGRATIONS) {
      if (done.has(m.version) || m.version > upTo) continue
      await m.up(tx)
      await tx
        .insertInto('offboard_migrations')
        .values({ version: m.version, name: m.name, applied_at: new Date() })
        .execute()
      applied.push(m.version)
    }
    return applied
  })
}

/** Creates a schema if missing, under the migration lock: concurrent `create schema if not exists` can still collide. */
export async function ensureSchema(db: Kysely<Database>, schema: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(tx)
    await sql`create schema if not exists ${sql.id(schema)}`.execute(tx)
  })
}
