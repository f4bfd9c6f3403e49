/** @module Rows for the store's tests: a tenant with a running run, and suggestion rows that refer to it. */
import type { Store } from './store.js'

/** Tenant `t` with a running run `r`, which suggestion rows refer to. */
export async function tenantWithRun(store: Store, at: Date): Promise<void> {
  await store.db.insertInto('tenants').values({ id: 't', created_at: at }).execute()
  await store.db
    .insertInto('runs')
    .values({
      id: 'r',
      tenant_id: 't',
      trigger: 'manual',
      status: 'running',
      actor: 'a',
      started_at: at,
      pid: 1,
      host: 'h',
    })
    .execute()
}

/** A plain suggestion row of run `r`, first seen `at`; tests override the columns they are about. */
export function suggestionRow(id: string, position: number, at: Date) {
  return {
    tenant_id: 't',
    id,
    run_id: 'r',
    position,
    category: 'stale',
    severity: 'medium',
    platform: 'windows',
    display_name: null as string | null,
    suggestion: '{}',
    device_keys: [] as string[],
    status: 'notStarted',
    assignee: null,
    task_id: null as number | null,
    first_seen_at: at,
  }
}
