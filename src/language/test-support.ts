/** @module The demo tenant's report, built in-process (snapshot → analyze), shared by the question tests. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyze } from '../analyze.js'
import { writeDemoSnapshot } from '../demo/generate.js'
import { DEFAULT_POLICY } from '../domain/policy.js'
import type { Report } from '../domain/report.js'
import { readSnapshot } from '../snapshot/read-snapshot.js'

/** The 500-device demo tenant (seed 1) evaluated at its own takenAt, as `offboard run --demo` does. */
export async function demoReport(devices = 500): Promise<Report> {
  const dir = mkdtempSync(join(tmpdir(), 'offboard-ask-demo-'))
  try {
    await writeDemoSnapshot(dir, { devices, seed: 1 })
    const data = await readSnapshot(dir)
    return analyze(data, { now: data.takenAt ?? Date.now(), policy: DEFAULT_POLICY })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
