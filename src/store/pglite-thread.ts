/**
 * @module PGlite on a thread of its own. PGlite is PostgreSQL compiled to WebAssembly and runs on the thread that
 * calls it, so in-process every statement it executed was time the engine could not use, and the other core sat idle.
 * On a worker thread, opening the store and storing a run's suggestions overlap with the work of the main thread
 * (encoding the next rows, finishing the report). The main thread keeps node-postgres and Kysely as they were: the
 * bytes of the wire protocol go to the thread and its answers come back as bytes, parsed here by node-postgres's own
 * parser, so errors keep their SQLSTATE codes and fields exactly as with a server.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { BackendMessage } from 'pg-protocol/dist/messages.js'
import { Parser } from 'pg-protocol/dist/parser.js'
import { COPY_FILE, copyFileError, type MemoryFiles } from './copy-file.js'

/** What the store needs of a PGlite instance: the wire protocol for node-postgres, `exec` for COPY, and close. */
export interface PGliteSession {
  readonly waitReady: Promise<void>
  readonly dataDir?: string | undefined
  execProtocolStream(message: Uint8Array, opts?: { throwOnError?: boolean }): Promise<BackendMessage[]>
  /**
   * Runs `sql` (several statements allowed; a COPY among them reads {@link COPY_FILE}) with `data` as that file,
   * removed afterwards. `data` is not copied (on the thread, when it is on a SharedArrayBuffer): the caller must not
   * change it before the promise settles. `table` names the COPY's table in errors.
   * @returns each statement's affected row count.
   * @throws OffboardError when the file cannot be written; nothing was stored.
   */
  execCopy(sql: string, data: Uint8Array, table: string): Promise<(number | undefined)[]>
  close(): Promise<void>
}

type Call =
  | { op: 'open'; dataDir: string; extraStartParams: string[] }
  | { op: 'protocol'; bytes: Uint8Array }
  | { op: 'copy'; sql: string; data: Uint8Array }
  | { op: 'close' }
type Request = Call & { id: number; session: number }

type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { message: string; fields: Record<string, unknown> } }

interface Thread {
  call(session: number, request: Call): Promise<unknown>
}

/**
 * The process's PGlite thread, started by the first opening and kept: a thread started for each opening compiled
 * PGlite's WebAssembly again each time, and a recorded run opens the store twice (an opening took 0.47 s instead of
 * 0.16 s, measured). Between openings it holds PGlite's code, as the main thread did when PGlite ran there: a closed
 * instance's memory is collected (13 MiB more than in-process after closing, measured). Sessions open at once share
 * it. It keeps the process alive only while an answer is awaited, so neither it nor a store left open holds the
 * process at exit. A thread that died is replaced at the next opening; what was waiting on it fails with the reason.
 */
let thread: Thread | undefined

function pgliteThread(): Thread {
  if (thread) return thread
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  // The thread's code is a function of this module run from its source text: a file beside this one would be
  // TypeScript when the tests run from the sources. It needs nothing from here but what it is given, except when tsx
  // runs the sources (a child process in the tests): its esbuild wraps named functions in `__name(fn, "name")`,
  // defined in the module, not in the thread, so the thread gets a `__name` that does nothing.
  const source = `var __name = (fn) => fn;\n(${pgliteThreadMain.toString()})(require('node:worker_threads'))`
  const worker = new Worker(source, {
    eval: true,
    workerData: { entry, copyFile: COPY_FILE },
  })
  worker.unref()
  const waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>()
  const self: Thread = { call }
  let failure: Error | null = null
  const fail = (err: Error) => {
    failure ??= err
    if (thread === self) thread = undefined
    for (const w of waiting.values()) w.reject(err)
    waiting.clear()
  }
  worker.on('message', (reply: Reply) => {
    const w = waiting.get(reply.id)
    if (!w) return
    waiting.delete(reply.id)
    if (reply.ok) w.resolve(reply.value)
    else w.reject(Object.assign(new Error(reply.error.message), reply.error.fields))
  })
  worker.on('error', (err) => fail(new Error(`the PGlite thread failed: ${err.message}`)))
  worker.on('exit', (code) => fail(new Error(`the PGlite thread ended (exit code ${code}).`)))
  let next = 1
  let pending = 0
  const settled = () => {
    if (--pending === 0) worker.unref()
  }
  function call(session: number, request: Call): Promise<unknown> {
    if (failure) return Promise.reject(failure)
    const id = next++
    if (pending++ === 0) worker.ref()
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject })
      worker.postMessage({ ...request, id, session })
    }).finally(settled)
  }
  thread = self
  return self
}

let sessions = 0

/**
 * Opens PGlite on `dataDir` on the process's PGlite thread, started with PGlite's default parameters and
 * `extraStartParams`.
 * @throws the error PGlite threw while opening, with its message.
 */
export async function openPGliteThread(dataDir: string, extraStartParams: string[]): Promise<PGliteSession> {
  const session = ++sessions
  const on = pgliteThread()
  await on.call(session, { op: 'open', dataDir, extraStartParams })
  // One parser per session: node-postgres's, which keeps a message cut at the end of one answer for the next.
  const parser = new Parser()
  let closed = false
  return {
    waitReady: Promise.resolve(),
    dataDir,
    async execProtocolStream(message) {
      const bytes = (await on.call(session, { op: 'protocol', bytes: message })) as Uint8Array
      const messages: BackendMessage[] = []
      parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (m) => messages.push(m))
      return messages
    },
    async execCopy(sql, data, table) {
      try {
        return (await on.call(session, { op: 'copy', sql, data })) as (number | undefined)[]
      } catch (err) {
        const problem = (err as { copyFileProblem?: unknown }).copyFileProblem
        throw typeof problem === 'string' ? copyFileError(table, problem) : err
      }
    },
    async close() {
      if (closed) return
      closed = true
      await on.call(session, { op: 'close' })
    },
  }
}

/**
 * The PGlite thread: PGlite instances by session, each request served in the order sent; an answer's bytes are
 * transferred, not copied.
 */
function pgliteThreadMain(threads: typeof import('node:worker_threads')): void {
  const port = threads.parentPort!
  const { entry, copyFile } = threads.workerData as { entry: string; copyFile: string }
  type Db = {
    execProtocolRaw(bytes: Uint8Array): Promise<Uint8Array>
    exec(sql: string): Promise<{ affectedRows?: number }[]>
    close(): Promise<void>
    Module?: { FS?: Partial<MemoryFiles> }
  }
  type PGliteClass = { defaultStartParams: string[]; create(dir: string, opts: object): Promise<Db> }
  const fail = (id: number, err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err))
    // SQLSTATE and the rest of a database error's fields are data; a stack is not needed across threads.
    const fields: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(e)) if (v === null || typeof v !== 'object') fields[k] = v
    port.postMessage({ id, ok: false, error: { message: e.message, fields } })
  }
  // Loaded once; the first `create` compiles PGlite's WebAssembly, which later ones reuse.
  let loaded: Promise<PGliteClass> | undefined
  const load = () => {
    // require, not import(): the test runner rewrites import() in the code it serves, and this code runs outside it.
    loaded ??= Promise.resolve().then(() => (require(entry) as { PGlite: PGliteClass }).PGlite)
    return loaded
  }
  // This thread's heap is small and rarely collected by itself, while what a closed instance lets go of is large: its
  // WebAssembly memory (about 150 MiB, held through the reading of the tenant otherwise). A full collection of this
  // heap takes a few ms. It runs once the request's frame is gone (setImmediate): a collection inside it would still
  // see the instance in use.
  let collect = () => {}
  try {
    require('node:v8').setFlagsFromString('--expose-gc')
    const gc: unknown = require('node:vm').runInNewContext('gc')
    if (typeof gc === 'function') collect = gc as () => void
  } catch {
    // Without the collector the thread only uses more memory.
  }
  const open = new Map<number, Db>()
  const serve = async (request: Request) => {
    try {
      if (request.op === 'open') {
        const PGlite = await load()
        open.set(
          request.session,
          await PGlite.create(request.dataDir, {
            startParams: [...PGlite.defaultStartParams, ...request.extraStartParams],
          }),
        )
        port.postMessage({ id: request.id, ok: true, value: null })
        return
      }
      const db = open.get(request.session)
      if (!db) throw new Error('this PGlite session is closed.')
      if (request.op === 'protocol') {
        const out = await db.execProtocolRaw(request.bytes)
        // execProtocolRaw answers with a copy of its output, ours to hand over.
        port.postMessage({ id: request.id, ok: true, value: out }, [out.buffer as ArrayBuffer])
      } else if (request.op === 'copy') {
        const fs = db.Module?.FS
        try {
          if (typeof fs?.writeFile !== 'function' || typeof fs.unlink !== 'function')
            throw new Error('this PGlite version has no in-memory file system')
          // Not a copy (canOwn): on a SharedArrayBuffer these are the very bytes the main thread encoded.
          fs.writeFile(copyFile, request.data, { canOwn: true })
        } catch (err) {
          port.postMessage({
            id: request.id,
            ok: false,
            error: { message: (err as Error).message, fields: { copyFileProblem: (err as Error).message } },
          })
          return
        }
        try {
          const results = await db.exec(request.sql)
          port.postMessage({ id: request.id, ok: true, value: results.map((r) => r.affectedRows) })
        } finally {
          ;(fs as MemoryFiles).unlink(copyFile)
        }
      } else {
        open.delete(request.session)
        await db.close()
        port.postMessage({ id: request.id, ok: true, value: null })
        setImmediate(collect)
      }
    } catch (err) {
      fail(request.id, err)
    }
  }
  // One request at a time, in the order sent: PGlite serves one statement at a time.
  let queue = Promise.resolve()
  port.on('message', (request: Request) => {
    queue = queue.then(() => serve(request))
  })
}
