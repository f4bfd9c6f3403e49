/**
 * @module The data-folder lock: PGlite is one process's database, so a second process opening the same folder
 * would corrupt it. A lock file holding the owner's pid turns that into a clear error naming the process.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { OffboardError } from '../lib/errors.js'

export const LOCK_FILE = 'offboard.lock'

const LockInfo = z.object({
  pid: z.number().int(),
  host: z.string(),
  since: z.string(),
  command: z.string(),
})
export type LockInfo = z.infer<typeof LockInfo>

/** The data folder is held by another live process. */
export class StoreLockedError extends OffboardError {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
  ) {
    super(
      `the data folder ${dataDir} is in use by ${holder.pid === process.pid && holder.host === hostname() ? 'this process' : `process ${holder.pid}`} on ${holder.host} ("${holder.command}", since ${holder.since}).`,
      `Wait for it to finish and try again. For several processes at once, use PostgreSQL (DATABASE_URL). ` +
        `If process ${holder.pid} is not offboard, delete ${join(dataDir, LOCK_FILE)}.`,
    )
  }
}

/** True when a process with this pid exists on this machine. EPERM means it exists but belongs to someone else. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface DataDirLock {
  readonly path: string
  release(): void
}

export interface LockOptions {
  /** How long to wait for another process to let go before failing (a CLI command racing `serve`'s short ticks). */
  waitMs?: number
  isAlive?: (pid: number) => boolean
  command?: string
}

const POLL_MS = 100

/**
 * Takes the lock of `dataDir` (which must exist). A lock left by a process that no longer runs on this host is
 * taken over; one held by a live process, or by any process on another host (its liveness cannot be checked),
 * is waited for up to `waitMs` and then refused.
 * @throws StoreLockedError naming the holder's pid, host, command and start time.
 */
export async function acquireDataDirLock(dataDir: string, opts: LockOptions = {}): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE)
  const isAlive = opts.isAlive ?? isProcessAlive
  const me: LockInfo = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    command: (opts.command ?? ['offboard', ...process.argv.slice(2)].join(' ')).slice(0, 200),
  }
  const deadline = Date.now() + (opts.waitMs ?? 0)
  for (;;) {
    if (tryCreate(path, me)) {
      return {
        path,
        release: () => {
          // Only remove our own lock: a takeover after a (wrongly) presumed death must not be undone.
          const now = readHolder(path)
          if (typeof now === 'object' && now.pid === me.pid && now.host === me.host) unlinkSafe(path)
        },
      }
    }
    const holder = readHolder(path)
    if (holder === 'gone') continue
    if (holder === 'corrupt' || (holder.host === me.host && holder.pid !== me.pid && !isAlive(holder.pid))) {
      // Stale or corrupt: move it aside, then check that what was moved is the lock judged stale. Two processes
      // taking over at once could otherwise move away the fresh lock the faster one just created.
      const aside = `${path}.stale-${me.pid}`
      try {
        renameSync(path, aside)
      } catch {
        continue // someone else moved it first
      }
      const moved = readHolder(aside)
      if (
        typeof moved === 'object' &&
        (holder === 'corrupt' || moved.pid !== holder.pid || moved.since !== holder.since)
      ) {
        try {
          linkSync(aside, path)
        } catch {
          // A third process holds the name now; it is live, and the loop will find it.
        }
      }
      unlinkSafe(aside)
      continue
    }
    if (Date.now() >= deadline) throw new StoreLockedError(dataDir, holder)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

/**
 * Creates the lock with its content in one step: written to a private file, then hard-linked into place (a link
 * fails if the name exists). Creating the file empty and writing after would let a racing process read an empty
 * lock and take it for a crashed one.
 */
function tryCreate(path: string, me: LockInfo): boolean {
  const tmp = `${path}.${me.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(me))
  try {
    linkSync(tmp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    unlinkSafe(tmp)
  }
}

function readHolder(path: string): LockInfo | 'gone' | 'corrupt' {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return 'gone'
  }
  try {
    const parsed = LockInfo.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : 'corrupt'
  } catch {
    return 'corrupt'
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Already gone.
  }
}
