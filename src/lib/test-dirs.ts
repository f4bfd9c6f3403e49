/**
 * @module Temporary folders for a test file: each call of the function `temporaryDirs` returns makes a new folder,
 * and every one is removed once the file's tests are done.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** A maker of folders named `<prefix><random>` in the system's temporary folder; call it at a test file's top level. */
export function temporaryDirs(prefix: string): () => string {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    dirs.push(dir)
    return dir
  }
}
