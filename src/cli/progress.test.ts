/** @module Tests of the live-read progress on a terminal: two sources read at once share a line, each ends on its own. */
import { describe, expect, it } from 'vitest'
import type { LiveProgressEvent } from '../sources/read-live.js'
import { liveProgress } from './progress.js'

/** What redraws a line: back to its start, then clear it. */
const CLEAR = '\r\u001b[2K'

/** A terminal `columns` wide: what is on screen after each write, as the lines `\n` ended and the one being drawn. */
function terminal(columns = 200) {
  const done: string[] = []
  let current = ''
  let clock = 0
  const out = {
    write(text: string) {
      for (const part of text.split(new RegExp(`(${CLEAR.replace('[', '\\[')}|\n)`))) {
        if (part === CLEAR) current = ''
        else if (part === '\n') {
          done.push(current)
          current = ''
        } else current += part
      }
    },
    now: () => clock,
    columns: () => columns,
  }
  return { out, done, current: () => current, advance: (ms: number) => (clock += ms) }
}

const event = (e: Partial<LiveProgressEvent> & Pick<LiveProgressEvent, 'source'>): LiveProgressEvent => ({
  pages: 0,
  records: 0,
  total: null,
  done: false,
  ...e,
})

describe('liveProgress', () => {
  it('shows the sources being read on one line and gives each finished source a line of its own', () => {
    const tty = terminal()
    const progress = liveProgress(true, tty.out)
    progress(event({ source: 'intune' }))
    tty.advance(1000)
    progress(event({ source: 'intune', pages: 2, records: 2000, total: 4000 }))
    expect(tty.current()).toBe('  intune    2,000 records, 2 pages, 2,000/s, ETA 1 s')
    progress(event({ source: 'entra' }))
    progress(event({ source: 'defender' }))
    tty.advance(1000)
    progress(event({ source: 'entra', pages: 3, records: 3000 }))
    progress(event({ source: 'defender', pages: 1, records: 10_000, total: 30_000 }))
    expect(tty.current()).toBe('  reading intune 2,000 (ETA 1 s) · entra 3,000 · defender 10,000 (ETA 2 s)')
    expect(tty.done).toEqual([])
    progress(event({ source: 'intune', pages: 4, records: 4000, total: 4000, done: true }))
    expect(tty.done).toEqual(['  intune    4,000 records, 4 pages — done in 2.0 s'])
    expect(tty.current()).toBe('  reading entra 3,000 · defender 10,000 (ETA 2 s)')
    progress(event({ source: 'entra', pages: 3, records: 3000, total: 3000, done: true }))
    expect(tty.current()).toBe('  defender  10,000 records, 1 page, 10,000/s, ETA 2 s')
    tty.advance(2000)
    progress(event({ source: 'defender', pages: 3, records: 30_000, total: 30_000, done: true }))
    expect(tty.done).toEqual([
      '  intune    4,000 records, 4 pages — done in 2.0 s',
      '  entra     3,000 records, 3 pages — done in 1.0 s',
      '  defender  30,000 records, 3 pages — done in 3.0 s',
    ])
    expect(tty.current()).toBe('')
  })

  it('says which source failed and why, on its own line', () => {
    const tty = terminal()
    const progress = liveProgress(true, tty.out)
    progress(event({ source: 'entra' }))
    progress(
      event({
        source: 'defender',
        pages: 1,
        records: 10,
        done: true,
        error: 'HTTP 403: grant Machine.Read.All',
      }),
    )
    expect(tty.done).toEqual(['  defender  10 records, 1 page — FAILED: HTTP 403: grant Machine.Read.All'])
    expect(tty.current()).toBe('  entra     0 records, 0 pages')
  })

  it('cuts the line of the sources being read to the width of the terminal, which would otherwise wrap', () => {
    const tty = terminal(30)
    const progress = liveProgress(true, tty.out)
    progress(event({ source: 'entra', pages: 3, records: 3000 }))
    progress(event({ source: 'defender', pages: 1, records: 10_000 }))
    expect(tty.current()).toBe('  reading entra 3,000 · defe…')
    expect(tty.current().length).toBe(29)
  })

  it('writes nothing when disabled', () => {
    const tty = terminal()
    const progress = liveProgress(false, tty.out)
    progress(event({ source: 'intune', pages: 1, records: 5 }))
    expect(tty.current()).toBe('')
    expect(tty.done).toEqual([])
  })
})
