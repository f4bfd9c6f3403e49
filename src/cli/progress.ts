/** @module Per-source progress for live reads on a terminal: records, pages, rate and (when the API gives a total) ETA. */
import type { LiveProgressEvent } from '../sources/read-live.js'

const fmt = (n: number) => n.toLocaleString('en-US')

/** Returns a progress callback that redraws one line per source on stderr; silent when `enabled` is false. */
export function liveProgress(enabled: boolean): (e: LiveProgressEvent) => void {
  const started = new Map<string, number>()
  return (e) => {
    if (!enabled) return
    const t0 = started.get(e.source) ?? performance.now()
    started.set(e.source, t0)
    const seconds = (performance.now() - t0) / 1000
    // A rate over a fraction of a second says nothing.
    const rate = seconds >= 0.5 ? Math.round(e.records / seconds) : 0
    let line = `  ${e.source.padEnd(9)} ${fmt(e.records)} records, ${e.pages} page${e.pages === 1 ? '' : 's'}`
    if (!e.done && rate) line += `, ${fmt(rate)}/s`
    if (!e.done && e.total && rate) line += `, ETA ${Math.max(0, Math.round((e.total - e.records) / rate))} s`
    if (e.done) line += e.error ? ` — FAILED: ${e.error}` : ` — done in ${seconds.toFixed(1)} s`
    process.stderr.write(`\r\u001b[2K${line}${e.done ? '\n' : ''}`)
  }
}
