/** @module Writing results: stdout only once the whole report exists, files atomically, errors in one format. */
import { rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CommanderError } from 'commander'
import { OffboardError } from '../lib/errors.js'

/** Writes text to stdout and resolves when it is flushed (so the exit code never cuts a report short). */
export async function writeStdout(text: string | Iterable<string>): Promise<void> {
  // Chunks (a report too big for one string) are written one after another, each waiting for the last.
  for (const chunk of typeof text === 'string' ? [text] : text) {
    await new Promise<void>((resolve, reject) => {
      process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()))
    })
  }
}

/** Writes a file via a temporary sibling and a rename, so a failure leaves the previous file intact. */
export async function writeFileAtomic(path: string, text: string | Iterable<string>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    await writeFile(tmp, text, 'utf8')
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw err
  }
  await rename(tmp, path)
}

/** Progress and notes for people: stderr, only on a terminal, never in CI or with --quiet. */
export function progressEnabled(quiet: boolean | undefined): boolean {
  return !quiet && Boolean(process.stderr.isTTY) && !process.env.CI
}

export function note(enabled: boolean, message: string): void {
  if (enabled) process.stderr.write(`${message}\n`)
}

/** Prints an error the same way for every command and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (unknown option, missing argument); add where to look.
    if (err.exitCode === 0) return 0
    process.stderr.write("Run 'offboard --help' or 'offboard <command> --help' for usage.\n")
    return 2
  }
  if (err instanceof OffboardError) {
    process.stderr.write(`offboard: error: ${err.message}\n`)
    if (err.hint) process.stderr.write(`  how to fix: ${err.hint}\n`)
    return err.exitCode
  }
  const e = err as Error
  process.stderr.write(`offboard: unexpected error: ${e?.stack ?? String(err)}\n`)
  process.stderr.write('  This is a bug in offboard; please report it with the command you ran.\n')
  return 1
}
