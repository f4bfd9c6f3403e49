/** @module Per-source progress for live reads on a terminal: records, pages, rate and (when the API gives a total) ETA. */
import type { LiveProgressEvent } from '../sources/read-live.js'

const fmt = (n: number) => n.toLocaleString('en-US')

/** Where progress goes, and the clock its rates use: stderr and `performance.now()`, or a test's own. */
export interface ProgressOutput {
  write: (text: string) => void
  now: () => number
  /** The terminal's width: the line of the sources being read is cut to fit it, or a wrapped line would stay behind. */
  columns: () => number | undefined
}

const STDERR: ProgressOutput = {
  write: (text) => process.stderr.write(text),
  now: () => performance.now(),
  columns: () => process.stderr.columns,
}

/**
 * Returns a progress callback that keeps one line on stderr for the sources being read (up to three at once: see
 * `readLive`), and prints a line of its own for each source when it is done; silent when `enabled` is false. One
 * source gets its pages and rate; several share the line, each with its records and ETA.
 */
export function liveProgress(enabled: boolean, out: ProgressOutput = STDERR): (e: LiveProgressEvent) => void {
  const started = new Map<string, number>()
  /** What is known of each source being read, in the order they started. */
  const reading = new Map<string, { e: LiveProgressEvent; rate: number }>()
  return (e) => {
    if (!enabled) return
    const t0 = started.get(e.source) ?? out.now()
    started.set(e.source, t0)
    const seconds = (out.now() - t0) / 1000
    // A rate over a fraction of a second says nothing.
    const rate = seconds >= 0.5 ? Math.round(e.records / seconds) : 0
    if (e.done) {
      reading.delete(e.source)
      const outcome = e.error ? `FAILED: ${e.error}` : `done in ${seconds.toFixed(1)} s`
      out.write(`${CLEAR}  ${e.source.padEnd(9)} ${counts(e)} — ${outcome}\n`)
    } else reading.set(e.source, { e, rate })
    if (reading.size === 0) return
    const active = [...reading.values()]
    let line =
      active.length === 1
        ? `  ${active[0]!.e.source.padEnd(9)} ${counts(active[0]!.e)}${speed(active[0]!)}`
        : `  reading ${active.map(({ e, rate }) => `${e.source} ${fmt(e.records)}${eta(e, rate)}`).join(' · ')}`
    const width = out.columns()
    if (width && line.length >= width) line = `${line.slice(0, width - 2)}…`
    out.write(`${CLEAR}${line}`)
  }
}

/** Back to the start of the line, and clear it. */
const CLEAR = '\r\u001b[2K'

const counts = (e: LiveProgressEvent) =>
  `${fmt(e.records)} records, ${e.pages} page${e.pages === 1 ? '' : 's'}`

function speed({ e, rate }: { e: LiveProgressEvent; rate: number }): string {
  if (!rate) return ''
  const left = secondsLeft(e, rate)
  return `, ${fmt(rate)}/s${left === null ? '' : `, ETA ${left} s`}`
}

function eta(e: LiveProgressEvent, rate: number): string {
  const left = secondsLeft(e, rate)
  return left === null ? '' : ` (ETA ${left} s)`
}

/** Seconds until the source's announced total, at its rate so far; null without either. */
function secondsLeft(e: LiveProgressEvent, rate: number): number | null {
  if (!rate || !e.total) return null
  return Math.max(0, Math.round((e.total - e.records) / rate))
}
