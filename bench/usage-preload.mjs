/** @module Preloaded into a benchmarked `offboard` process (node --import): on exit, writes its peak RSS and CPU time to BENCH_USAGE_FILE. */
import { writeFileSync } from 'node:fs'

const file = process.env.BENCH_USAGE_FILE
if (file) {
  process.on('exit', (code) => {
    const cpu = process.cpuUsage()
    writeFileSync(
      file,
      JSON.stringify({
        code,
        maxRssKb: process.resourceUsage().maxRSS,
        cpuMs: (cpu.user + cpu.system) / 1000,
      }),
    )
  })
}
