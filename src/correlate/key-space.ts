/**
 * @module Dense integer ids for join keys, without a Map entry or a string comparison per key where the key has a
 * compact form: a GUID is 128 bits, a short serial number fits in 120. At a million devices the string-keyed Map
 * spent most of its time comparing equal keys held by different string objects (a cache miss each); a table of
 * 32-bit words compares numbers that sit next to the slot. Other keys fall back to a Map.
 */

/** Words per key in the compact table: 4 × 32 bits. */
const WORDS = 4
/** Slot layout: id + 1 (0 = empty), then the key's words. */
const SLOT = 1 + WORDS
const MAX_LOAD = 0.7
const INITIAL_SLOTS = 1 << 10

/** Open-addressing table from 128-bit keys to ids, with linear probing; grows as keys arrive. */
class WordTable {
  private slots: Int32Array
  private mask: number
  private used = 0

  /** Sized for `expected` keys, so that a good guess never grows (each growth copies the table). */
  constructor(expected: number) {
    let size = INITIAL_SLOTS
    while (size * MAX_LOAD < expected) size *= 2
    this.slots = new Int32Array(size * SLOT)
    this.mask = size - 1
  }

  /** The id of key (w0..w3), or `fresh` after storing it under that id. */
  idOf(w0: number, w1: number, w2: number, w3: number, fresh: number): number {
    const slots = this.slots
    let s = hash(w0, w1, w2, w3) & this.mask
    for (;;) {
      const at = s * SLOT
      const stored = slots[at]!
      if (stored === 0) break
      if (slots[at + 1] === w0 && slots[at + 2] === w1 && slots[at + 3] === w2 && slots[at + 4] === w3)
        return stored - 1
      s = (s + 1) & this.mask
    }
    this.put(s, w0, w1, w2, w3, fresh)
    if (++this.used > (this.mask + 1) * MAX_LOAD) this.grow()
    return fresh
  }

  /** Where the probe for key (w0..w3) starts, as an index into the slots (see `KeySpace.ids`). */
  startOf(w0: number, w1: number, w2: number, w3: number): number {
    return (hash(w0, w1, w2, w3) & this.mask) * SLOT
  }

  /** The slot at `at` (from `startOf`), read only to bring it into the cache. */
  peek(at: number): number {
    return this.slots[at]!
  }

  private put(s: number, w0: number, w1: number, w2: number, w3: number, id: number): void {
    const at = s * SLOT
    this.slots[at] = id + 1
    this.slots[at + 1] = w0
    this.slots[at + 2] = w1
    this.slots[at + 3] = w2
    this.slots[at + 4] = w3
  }

  private grow(): void {
    const old = this.slots
    const size = (this.mask + 1) * 2
    this.slots = new Int32Array(size * SLOT)
    this.mask = size - 1
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at] === 0) continue
      const w0 = old[at + 1]!
      const w1 = old[at + 2]!
      const w2 = old[at + 3]!
      const w3 = old[at + 4]!
      let s = hash(w0, w1, w2, w3) & this.mask
      while (this.slots[s * SLOT] !== 0) s = (s + 1) & this.mask
      this.put(s, w0, w1, w2, w3, old[at]! - 1)
    }
  }
}

function hash(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ (w2 >>> 7), 0x9e3779b1) ^ Math.imul(w1 ^ (w3 << 5), 0x85ebca77)
  h ^= Math.imul(w2 ^ (w0 >>> 13), 0xc2b2ae3d) ^ w3
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  return h ^ (h >>> 12)
}

/** 6-bit code of a serial-number character (0-9, A-Z, a-z, '-'); 0 means "not in the alphabet" (and padding). */
function shortCode(c: number): number {
  if (c >= 48 && c <= 57) return c - 47 // 1..10
  if (c >= 65 && c <= 90) return c - 54 // 11..36
  if (c >= 97 && c <= 122) return c - 60 // 37..62
  return c === 45 ? 63 : 0
}

/** Characters per word of a short key, and the longest short key. */
const SHORT_PER_WORD = 5
const SHORT_MAX = SHORT_PER_WORD * WORDS

/** How many keys `KeySpace.ids` looks up together. */
export const BATCH = 64

/** What `KeySpace.ids` found each key of a batch to be. */
const OTHER = 0
const GUID = 1
const SHORT = 2

/** Dense ids 0, 1, 2… for the distinct keys of one kind, in order of first appearance. */
export class KeySpace {
  /** Created on first use, each sized for every expected key: a kind of key is almost always all GUIDs or none. */
  private guids: WordTable | null = null
  private shorts: WordTable | null = null
  private readonly others = new Map<string, number>()
  private count = 0
  /** The words of the key being looked up. */
  private readonly w = new Int32Array(WORDS)
  /** The words and kind of each key of a batch (`ids`). */
  private readonly batchWords = new Int32Array(BATCH * WORDS)
  private readonly batchKinds = new Uint8Array(BATCH)
  private readonly batchStarts = new Int32Array(BATCH)
  /** Where `ids` leaves what it read only to load it: written, so that the compiler keeps the reads; never read. */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: a write the optimiser cannot drop, by design.
  private loaded = 0

  /** `expected`: about how many distinct keys will come (a guess; the tables grow past it). */
  constructor(private readonly expected = 0) {}

  get size(): number {
    return this.count
  }

  /**
   * The id of `value`, or of `value.toLowerCase()` when `lowerCase`. Two keys get one id exactly when their text
   * (lower-cased, if asked) is equal: a canonical GUID (36 characters, lower-case hex) is only ever stored in the
   * GUID table, text of at most 20 serial characters only in the short table, anything else only in the Map.
   */
  id(value: string, lowerCase = false): number {
    const kind = this.encode(value, lowerCase, this.w, 0)
    if (kind !== OTHER) return this.tableId(this.tableOf(kind), this.w, 0)
    if (!lowerCase) return this.otherId(value)
    // Not ASCII (or not compact): lower-case first, then place the text as if it had come lower-cased (the Kelvin
    // sign lower-cases to "k", for one).
    const text = value.toLowerCase()
    return text === value ? this.otherId(text) : this.id(text)
  }

  /**
   * The ids of `values[0..count)` (at most `BATCH`) into `out`: the ids `id` would give them, called on each in turn.
   *
   * At a million devices a key's text and its table slot are each somewhere in gigabytes of heap and tens of
   * megabytes of table: `id` waited for memory twice per key, one key after the other (two thirds of building the
   * index). Here the texts of the whole batch are read first, then every key's first slot, each read independent of
   * the others, so that the processor waits for them together; the ids are then given in order from the cache.
   */
  ids(values: readonly string[], count: number, lowerCase: boolean, out: Int32Array): void {
    const words = this.batchWords
    const kinds = this.batchKinds
    const starts = this.batchStarts
    let loaded = 0
    // Each loop's reads are independent of one another and the loops are short: the processor keeps many in flight.
    for (let k = 0; k < count; k++) {
      // A GUID's text often spans two cache lines: its first and last characters.
      const value = values[k]!
      loaded += value.length === 0 ? 0 : value.charCodeAt(0) + value.charCodeAt(value.length - 1)
    }
    for (let k = 0; k < count; k++) {
      const at = k * WORDS
      const kind = this.encode(values[k]!, lowerCase, words, at)
      kinds[k] = kind
      if (kind !== OTHER)
        starts[k] = this.tableOf(kind).startOf(words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!)
    }
    for (let k = 0; k < count; k++) {
      const kind = kinds[k]!
      if (kind !== OTHER) loaded += this.tableOf(kind).peek(starts[k]!)
    }
    this.loaded = loaded
    for (let k = 0; k < count; k++) {
      const kind = kinds[k]!
      out[k] =
        kind === OTHER ? this.id(values[k]!, lowerCase) : this.tableId(this.tableOf(kind), words, k * WORDS)
    }
  }

  /**
   * Encodes `value` (lower-cased, with `lowerCase`) into `w[at..at + 4)` as a GUID or a short key, its table made
   * ready; OTHER when neither encoding takes it. The encodings accept ASCII only, where lower-casing changes A-Z alone:
   * they encode the lower-cased text.
   */
  private encode(value: string, lowerCase: boolean, w: Int32Array, at: number): number {
    if (value.length === 36 && guidWords(value, lowerCase, w, at)) {
      this.guids ??= new WordTable(this.expected)
      return GUID
    }
    if (value.length <= SHORT_MAX && shortWords(value, lowerCase, w, at)) {
      this.shorts ??= new WordTable(this.expected)
      return SHORT
    }
    return OTHER
  }

  /** The table of a kind `encode` gave (GUID or SHORT), which it made ready. */
  private tableOf(kind: number): WordTable {
    return kind === GUID ? this.guids! : this.shorts!
  }

  private otherId(text: string): number {
    let id = this.others.get(text)
    if (id === undefined) {
      id = this.count++
      this.others.set(text, id)
    }
    return id
  }

  private tableId(table: WordTable, w: Int32Array, at: number): number {
    const id = table.idOf(w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!, this.count)
    if (id === this.count) this.count++
    return id
  }
}

/**
 * Fills `w[at..at + 4)` with the 128 bits of a GUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`; false when `value` is
 * not one.
 */
function guidWords(value: string, anyCase: boolean, w: Int32Array, at: number): boolean {
  if (
    value.charCodeAt(8) !== DASH ||
    value.charCodeAt(13) !== DASH ||
    value.charCodeAt(18) !== DASH ||
    value.charCodeAt(23) !== DASH
  )
    return false
  const hex = anyCase ? HEX_ANY_CASE : HEX_LOWER
  // Table look-ups without a branch per character: a non-digit sets BAD in `seen`.
  let seen = 0
  let word = 0
  for (let j = 0; j < 32; j++) {
    const c = value.charCodeAt(HEX_AT[j]!)
    const d = c < 128 ? hex[c]! : BAD
    seen |= d
    word = (word << 4) | (d & 15)
    if ((j & 7) === 7) {
      w[at + (j >> 3)] = word
      word = 0
    }
  }
  return (seen & BAD) === 0
}

const DASH = 45
/** Marks a character that is not a hex digit. */
const BAD = 0x100
/** Where the 32 hex digits of a GUID are. */
const HEX_AT = Uint8Array.from({ length: 36 }, (_, k) => k).filter(
  (k) => k !== 8 && k !== 13 && k !== 18 && k !== 23,
)

/** Digit value per ASCII code, or BAD: lower-case hex only, and hex in any case. */
const HEX_LOWER = hexTable(false)
const HEX_ANY_CASE = hexTable(true)
function hexTable(anyCase: boolean): Int16Array {
  const table = new Int16Array(128).fill(BAD)
  for (let c = 0; c < 10; c++) table[48 + c] = c
  for (let c = 0; c < 6; c++) {
    table[97 + c] = 10 + c
    if (anyCase) table[65 + c] = 10 + c
  }
  return table
}

/**
 * Fills `w[at..at + 4)` with the 6-bit codes of a short key, five per word, zero-padded (no character codes as zero, so the
 * padding tells lengths apart); false when a character is outside the alphabet. With `lowerCase`, A-Z are coded as
 * a-z (the only characters of the alphabet that lower-casing changes, and no other character lower-cases into it).
 */
function shortWords(value: string, lowerCase: boolean, w: Int32Array, at: number): boolean {
  w.fill(0, at, at + WORDS)
  for (let k = 0; k < value.length; k++) {
    let c = value.charCodeAt(k)
    if (lowerCase && c >= 65 && c <= 90) c += 32
    const code = shortCode(c)
    if (code === 0) return false
    const i = at + ((k / SHORT_PER_WORD) | 0)
    w[i] = (w[i]! << 6) | code
  }
  return true
}
