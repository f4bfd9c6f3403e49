/**
 * @module The read phase of `offboard run` alone, in its own process (bench/read-phase.ts starts it): sign in and
 * read every source of the configured tenant (the simulator) through the same clients and the same readLive the
 * command uses, then print one JSON line: wall and CPU time, peak RSS, the record counts and a digest of everything
 * read, so that two builds can be shown to read the same. OFFBOARD_DIST picks the build (default: ./dist).
 */
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const dist = resolve(process.env.OFFBOARD_DIST ?? 'dist')
const load = (path) => import(pathToFileURL(resolve(dist, path)).href)
const { loadTenantConfig } = await load('lib/config.js')
const { connectTenant } = await load('cli/tenant.js')
const { readLive } = await load('sources/read-live.js')

const config = await loadTenantConfig(undefined)
if (!config) throw new Error('read-live: no tenant configured; export the variables the simulator prints')
const cpu0 = process.cpuUsage()
const started = performance.now()
const { clients } = await connectTenant(config)
const data = await readLive(clients, { tenantId: config.tenantId, now: () => 0 })
const ms = performance.now() - started
const cpu = process.cpuUsage(cpu0)

const digest = createHash('sha256')
const counts = {}
for (const source of ['intune', 'entra', 'autopilot', 'defender']) {
  const load = data[source]
  counts[source] = load.status === 'ok' ? load.records.length : load.status
  digest.update(JSON.stringify({ source, status: load.status, error: load.error, records: load.records }))
}
digest.update(JSON.stringify([...(data.teamsSerials ?? [])]))
process.stdout.write(
  `${JSON.stringify({
    ms: Math.round(ms),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    userMs: Math.round(cpu.user / 1000),
    maxRssKb: process.resourceUsage().maxRSS,
    counts,
    teams: data.teamsSerials?.size ?? null,
    digest: digest.digest('hex').slice(0, 16),
  })}\n`,
)
