/**
 * @module How a run steers V8's garbage collector: a full collection where the run knows that most of its heap just
 * died, the heap's growth held back while a tenant is read, and pretenuring off for the engine's short-lived objects.
 *
 * The full collection: V8 collects the old generation when it has grown by a factor of the heap that survived the
 * last collection; at a million devices that let a gigabyte of records the run had let go of sit beside the
 * suggestions being built, and the run's peak of memory was set by when V8 happened to collect, not by what was
 * alive (2.5–3 GiB for about 1.4 GiB alive).
 * Node gives the collector to code only behind `--expose-gc`, which can be turned on while running: V8 then adds
 * `gc` to contexts created afterwards. Where that fails, nothing is collected early and the run is only bigger.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let collector: (() => void) | null | undefined

function findCollector(): (() => void) | null {
  const exposed = (globalThis as { gc?: unknown }).gc
  if (typeof exposed === 'function') return exposed as () => void
  if (!setFlag('--expose-gc')) return null
  try {
    const gc: unknown = runInNewContext('gc')
    return typeof gc === 'function' ? (gc as () => void) : null
  } catch {
    return null
  }
}

/** Collects every generation now, synchronously; returns false when the collector could not be reached. */
export function collectGarbage(): boolean {
  collector ??= findCollector()
  if (!collector) return false
  collector()
  return true
}

/**
 * Heap in use (garbage included) from which {@link collectGarbageIfLarge} collects. A run's full collections are
 * there to keep a large run's peak of memory down (a million devices: 1.4 GB in use, see analyze.ts and runs.ts);
 * a small run's peak is no concern, and at 100,000 devices (140-170 MB in use) its three collections cost 0.2 s of
 * a 5.5 s run. A million-device run is at 1.4 GB; this is about a third of that.
 */
export const LARGE_HEAP_MIB = 512

/** {@link collectGarbage}, when the heap in use has reached `fromMiB`; returns whether it collected. */
export function collectGarbageIfLarge(fromMiB = LARGE_HEAP_MIB): boolean {
  if (getHeapStatistics().used_heap_size < fromMiB * 1_048_576) return false
  return collectGarbage()
}

/** How far V8 may let the heap grow while a call of `withHeapGrowth` runs. */
export interface HeapGrowthCap {
  /** The old generation grows by at most this % of what survived the last full collection before V8 collects again. */
  percent: number
  /** The cap applies once the heap in use reaches this many MiB; below it V8 picks the factor itself (default 0). */
  fromMiB?: number
}

/**
 * Runs `fn` with V8 letting the old generation grow by at most `cap.percent` % of what survived the last full
 * collection before it collects again, from when the heap in use reaches `cap.fromMiB`; V8 picks the factor itself
 * again after.
 *
 * V8 picks a factor of up to 4 when its collections are fast, as they are while a tenant is read: at a million
 * devices the records (1.1 GB) grew in one step to 1.73 GB of heap used, garbage included, before V8 collected
 * it, and the end of reading came close to the run's peak of memory (1.86–1.99 GB resident). With growth capped at
 * 50 %, reading stayed under 1.8 GB in every run (1.56 GB in one traced), for a few more full collections: 3–5 s
 * more CPU at a million devices, on the collector's threads, and no change in wall time the noise let through.
 * A small tenant gains nothing from the cap and pays for it: at 100,000 devices (a heap of about 200 MiB) those
 * collections were 0.2–0.3 s of a 3.3 s read. Hence `fromMiB`: the heap in use is checked every
 * {@link HEAP_CHECK_MS} ms while `fn` awaits, and the cap set once it is reached. Where the flag cannot be set, `fn`
 * runs as before.
 */
export async function withHeapGrowth<T>(cap: HeapGrowthCap, fn: () => Promise<T>): Promise<T> {
  if (heapGrowth.calls === 0) capFrom(cap)
  heapGrowth.calls++
  try {
    return await fn()
  } finally {
    heapGrowth.calls--
    if (heapGrowth.calls === 0) uncap()
  }
}

/** How often a call of `withHeapGrowth` checks the heap in use until its cap applies. */
export const HEAP_CHECK_MS = 100

/**
 * Calls of `withHeapGrowth` under way, which may overlap (two reads awaiting at once): the first one's cap holds for
 * all, the last to end sets V8 back. `set`: the flag is set; `check`: the timer waiting for the heap to reach the cap.
 */
const heapGrowth: { calls: number; set: boolean; check: NodeJS.Timeout | undefined } = {
  calls: 0,
  set: false,
  check: undefined,
}

function capFrom({ percent, fromMiB = 0 }: HeapGrowthCap): void {
  const reached = () => getHeapStatistics().used_heap_size >= fromMiB * 1_048_576
  const apply = () => {
    heapGrowth.set = setFlag(`--heap-growing-percent=${percent}`)
  }
  if (reached()) {
    apply()
    return
  }
  heapGrowth.check = setInterval(() => {
    if (!reached()) return
    clearInterval(heapGrowth.check)
    heapGrowth.check = undefined
    apply()
  }, HEAP_CHECK_MS)
  // The check never keeps the process alive by itself.
  heapGrowth.check.unref()
}

function uncap(): void {
  clearInterval(heapGrowth.check)
  heapGrowth.check = undefined
  // 0 is V8's default: no fixed percentage, V8 computes the factor.
  if (heapGrowth.set) setFlag('--heap-growing-percent=0')
  heapGrowth.set = false
}

let shortLivedDepth = 0

/**
 * Runs `fn` with V8's allocation-site pretenuring off, and turns it back on after (the outermost call only).
 *
 * V8 watches each place in the code that makes objects: when nearly all of one site's young objects are still alive
 * at a young-generation collection, it makes that site allocate straight into the old generation from then on, and
 * keeps to that. The engine makes a view and its evaluation per device and drops them when the next device starts,
 * but a collection that falls while a batch is alive can decide otherwise. At a million devices that happened in
 * 5 of 11 engine runs: 630 MB of dead views went to the old generation, each young collection took ten times longer,
 * and correlate + evaluate took 6.9–9.4 s instead of 4.4–5.0 s. Reading keeps the setting: the records it makes do
 * live on. It only prevents decisions: code already optimised for a site V8 sent to the old generation goes on
 * allocating there, so it must be in force before the code that makes the short-lived objects first runs (tested). Where
 * the flag cannot be set, `fn` runs as before.
 */
export function withShortLivedObjects<T>(fn: () => T): T {
  const outermost = shortLivedDepth === 0 && setFlag('--no-allocation-site-pretenuring')
  shortLivedDepth++
  try {
    return fn()
  } finally {
    shortLivedDepth--
    if (outermost) setFlag('--allocation-site-pretenuring')
  }
}

function setFlag(flag: string): boolean {
  try {
    setFlagsFromString(flag)
    return true
  } catch {
    return false
  }
}

/**
 * The process's memory now, in MiB, for `--debug` events: resident; the JavaScript heap in use and reserved (V8
 * keeps pages it has emptied); outside the heap (buffers, PGlite's WebAssembly memory).
 */
export function memoryNow(): {
  rssMiB: number
  heapUsedMiB: number
  heapTotalMiB: number
  externalMiB: number
} {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage()
  const mib = (bytes: number) => Math.round(bytes / 1_048_576)
  return {
    rssMiB: mib(rss),
    heapUsedMiB: mib(heapUsed),
    heapTotalMiB: mib(heapTotal),
    externalMiB: mib(external),
  }
}
