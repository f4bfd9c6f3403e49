/** @module The file in PGlite's memory that COPY reads a batch of rows from, wherever PGlite runs. */
import { OffboardError } from '../lib/errors.js'

/**
 * Where COPY reads a batch from: a file in PGlite's in-memory file system (Emscripten's MEMFS; the data folder is
 * mounted elsewhere, at PGDATA), which no other process sees and a crash leaves nowhere. PGlite's own `/dev/blob`
 * device copied the bytes into PostgreSQL's buffer one at a time in JavaScript: COPY of a 100k-device report's 59 MB
 * took a median 1.10 s from it and 0.88 s from a file, whose reads are one `set` per 64 KiB (interleaved runs).
 */
export const COPY_FILE = '/tmp/offboard-copy-in'

/** The two calls of Emscripten's FS that COPY uses (PGlite types `Module.FS` loosely). */
export interface MemoryFiles {
  writeFile(path: string, data: Uint8Array, opts: { canOwn: boolean }): void
  unlink(path: string): void
}

/** The file could not be written: nothing was stored. */
export function copyFileError(table: string, problem: string): OffboardError {
  return new OffboardError(
    `cannot write ${COPY_FILE} in PGlite's in-memory file system for COPY into ${table}: ${problem}; nothing was stored.`,
    'Install the PGlite version in package-lock.json (npm ci), or report the PGlite version in use.',
  )
}
