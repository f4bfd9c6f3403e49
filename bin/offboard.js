#!/usr/bin/env node
// Entry point: runs the compiled CLI. The build runs on `npm install` (prepare) and in `npm test`.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write(
    "offboard: error: offboard is not built yet.\n  how to fix: run 'npm install' (or 'npm run build') in the offboard folder.\n",
  )
  process.exit(1)
}
// `offboard run … | head` closes the pipe early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw err
})
const { main } = await import(entry.href)
process.exitCode = await main(process.argv)
