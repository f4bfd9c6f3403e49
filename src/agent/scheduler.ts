/**
 * @module The schedule `offboard serve` keeps: each tenant with an agent runs every `schedule_hours` (24 by default)
 * after its latest run, manual or scheduled. The next run time is written to the agent so `agent show` tells it.
 * The store is opened only for each planning step, so other processes can use a PGlite data folder in between.
 */
import { hostname } from 'node:os'
import { setTimeout as sleepTimer } from 'node:timers/promises'
import { type Clock, systemClock } from '../store/clock.js'
import type { Store } from '../store/store.js'

/** How long serve sleeps at most before re-reading the agents (new agents and schedule changes are picked up). */
export const MAX_SLEEP_MS = 15 * 60_000
/** After a scheduled run could not even start (store unreachable, …), wait this long before trying it again. */
export const RETRY_AFTER_MS = 15 * 60_000

export interface ScheduledTenant {
  tenantId: string
  scheduleHours: number
  lastRunAt: Date | null
  nextRunAt: Date
}

/** `hours` after the latest run started; now when it never ran or is overdue. */
export function nextRunTime(lastStartedAt: Date | null, hours: number, now: Date): Date {
  if (!lastStartedAt) return now
  return new Date(Math.max(now.getTime(), lastStartedAt.getTime() + hours * 3_600_000))
}

export interface PlanOptions {
  /** Overrides every agent's own schedule (`serve --schedule-hours`). */
  scheduleHours?: number
  /** Only this tenant. */
  tenantId?: string
}

/** The schedule of every tenant with an agent, from the agents and their latest runs. */
export async function planSchedule(store: Store, opts: PlanOptions = {}): Promise<ScheduledTenant[]> {
  const now = store.clock()
  let q = store.db
    .selectFrom('agents as a')
    .select((eb) => [
      'a.tenant_id',
      'a.schedule_hours',
      eb
        .selectFrom('runs as r')
        .select((e) => e.fn.max('r.started_at').as('last'))
        .whereRef('r.tenant_id', '=', 'a.tenant_id')
        .as('last_started'),
    ])
    .where('a.removed_at', 'is', null)
  if (opts.tenantId) q = q.where('a.tenant_id', '=', opts.tenantId)
  const rows = await q.orderBy('a.tenant_id').execute()
  return rows.map((r) => {
    const hours = opts.scheduleHours ?? r.schedule_hours
    const last = r.last_started ? new Date(r.last_started as Date | string) : null
    return {
      tenantId: r.tenant_id,
      scheduleHours: hours,
      lastRunAt: last,
      nextRunAt: nextRunTime(last, hours, now),
    }
  })
}

/** Writes each tenant's next run time to its agent (null clears it when serve stops). */
export async function publishSchedule(
  store: Store,
  plan: readonly { tenantId: string; nextRunAt: Date | null }[],
  scheduledBy: string | null,
): Promise<void> {
  for (const p of plan) {
    await store.db
      .updateTable('agents')
      .set({ next_run_at: p.nextRunAt, scheduled_by: p.nextRunAt ? scheduledBy : null })
      .where('tenant_id', '=', p.tenantId)
      .where('removed_at', 'is', null)
      .execute()
  }
}

export type ServeEvent =
  | { event: 'schedule'; at: Date; tenants: ScheduledTenant[] }
  | { event: 'runStarting'; at: Date; tenantId: string }
  | { event: 'runFinished'; at: Date; tenantId: string }
  | { event: 'runFailed'; at: Date; tenantId: string; error: string }
  | { event: 'error'; at: Date; error: string }
  | { event: 'stopped'; at: Date }

export interface ServeOptions extends PlanOptions {
  /** Opens the store for one planning step; closed right after. */
  open: () => Promise<Store>
  /**
   * Performs one scheduled run of a tenant, recording it (the owner's `offboard run` path with trigger
   * `schedule`, through `withRecordedRun`). Rejections are reported as `runFailed` and retried later.
   */
  runOnce: (ctx: { tenantId: string; trigger: 'schedule' }) => Promise<void>
  clock?: Clock
  /** Waits `ms` or until `signal` aborts; injectable so tests run a week of schedule in milliseconds. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  onEvent?: (e: ServeEvent) => void
}

export interface ServeHandle {
  /** The latest plan: every scheduled tenant and its next run. */
  schedule(): readonly ScheduledTenant[]
  nextRunAt(): Date | null
  /** True while a scheduled run is in progress (it cannot be stopped; `stop` waits for it). */
  running(): string | null
  /** Stops scheduling; resolves after the run in progress, if any, has finished and the schedule is cleared. */
  stop(): Promise<void>
  /** Settles when the loop ends. */
  done: Promise<void>
}

async function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleepTimer(ms, undefined, { signal })
  } catch {
    // Aborted by stop().
  }
}

/** Starts the scheduler loop. It plans, runs what is due one tenant at a time, and sleeps until the next run. */
export function startServe(opts: ServeOptions): ServeHandle {
  const clock = opts.clock ?? systemClock
  const sleep = opts.sleep ?? defaultSleep
  const emit = opts.onEvent ?? (() => {})
  const me = `pid ${process.pid} on ${hostname()}`
  const abort = new AbortController()
  const retryAfter = new Map<string, number>()
  let plan: ScheduledTenant[] = []
  let current: string | null = null

  const withStore = async <T>(fn: (s: Store) => Promise<T>): Promise<T> => {
    const store = await opts.open()
    try {
      return await fn(store)
    } finally {
      await store.close()
    }
  }

  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        plan = await withStore(async (store) => {
          const p = (await planSchedule(store, opts)).map((t) => {
            const retry = retryAfter.get(t.tenantId)
            return retry && retry > t.nextRunAt.getTime() ? { ...t, nextRunAt: new Date(retry) } : t
          })
          await publishSchedule(store, p, me)
          return p
        })
      } catch (err) {
        emit({ event: 'error', at: clock(), error: (err as Error).message })
        await sleep(RETRY_AFTER_MS, abort.signal)
        continue
      }
      emit({ event: 'schedule', at: clock(), tenants: plan })
      const now = clock().getTime()
      const due = plan.filter((t) => t.nextRunAt.getTime() <= now)
      for (const t of due) {
        if (abort.signal.aborted) break
        current = t.tenantId
        emit({ event: 'runStarting', at: clock(), tenantId: t.tenantId })
        // A recorded run (completed or failed) moves the schedule on by itself; an attempt that never reached the
        // store would be due again at once, so no tenant is attempted twice within RETRY_AFTER_MS.
        retryAfter.set(t.tenantId, clock().getTime() + RETRY_AFTER_MS)
        try {
          await opts.runOnce({ tenantId: t.tenantId, trigger: 'schedule' })
          emit({ event: 'runFinished', at: clock(), tenantId: t.tenantId })
        } catch (err) {
          emit({ event: 'runFailed', at: clock(), tenantId: t.tenantId, error: (err as Error).message })
        } finally {
          current = null
        }
      }
      if (due.length > 0) continue
      const next = Math.min(...plan.map((t) => t.nextRunAt.getTime()))
      await sleep(Math.max(0, Math.min(MAX_SLEEP_MS, next - clock().getTime())), abort.signal)
    }
    try {
      await withStore((store) =>
        publishSchedule(
          store,
          plan.map((t) => ({ tenantId: t.tenantId, nextRunAt: null })),
          null,
        ),
      )
    } catch {
      // Best effort: a stale next-run time names the process that set it.
    }
    emit({ event: 'stopped', at: clock() })
  }

  const done = loop()
  return {
    schedule: () => plan,
    nextRunAt: () => (plan.length ? new Date(Math.min(...plan.map((t) => t.nextRunAt.getTime()))) : null),
    running: () => current,
    async stop() {
      abort.abort()
      await done
    },
    done,
  }
}
