/**
 * @module The JSON report as a sequence of chunks, byte for byte `JSON.stringify(report, null, 2)`. A 1M-device
 * report is about a gigabyte of text, more than one JavaScript string may hold (~512 MiB), so it is written
 * element by element of its top-level arrays instead of as one string.
 */

const INDENT = '  '
/** Chunks of about this many characters: few writes, and no string anywhere near V8's limit. */
const CHUNK_CHARS = 1 << 20

/** `JSON.stringify(value, null, 2)` placed at a nesting depth: every line after the first is indented further. */
function stringifyAt(value: unknown, indent: string): string {
  // As inside an array, a value JSON cannot represent (undefined, a function) is written as null.
  const text = JSON.stringify(value, null, 2) ?? 'null'
  // Strings in JSON text never hold a raw line break, so every "\n" is a line break of the layout.
  return text.includes('\n') ? text.replaceAll('\n', `\n${indent}`) : text
}

/** Whether JSON.stringify writes this object property at all. */
function isWritten(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol'
}

/**
 * Yields `JSON.stringify(doc, null, 2)` in chunks (without a trailing newline). `doc` is a plain object (no
 * `toJSON` of its own), such as a report; its top-level arrays are written one element at a time.
 */
export function* jsonChunks(doc: object): Generator<string> {
  const entries = Object.entries(doc).filter(([, v]) => isWritten(v))
  if (entries.length === 0) {
    yield '{}'
    return
  }
  let buf = '{\n'
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i]!
    buf += `${INDENT}${JSON.stringify(key)}: `
    if (Array.isArray(value) && value.length > 0) {
      buf += '[\n'
      for (let j = 0; j < value.length; j++) {
        buf += `${INDENT}${INDENT}${stringifyAt(value[j], INDENT + INDENT)}${j < value.length - 1 ? ',\n' : '\n'}`
        if (buf.length >= CHUNK_CHARS) {
          yield buf
          buf = ''
        }
      }
      buf += `${INDENT}]`
    } else {
      buf += stringifyAt(value, INDENT)
    }
    buf += i < entries.length - 1 ? ',\n' : '\n'
  }
  yield `${buf}}`
}
