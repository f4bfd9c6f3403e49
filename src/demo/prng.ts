/** @module A small seeded PRNG (sfc32) so the demo tenant is byte-identical for the same options, with no Math.random. */

const UINT32 = 0x1_0000_0000
/** sfc32's authors recommend discarding the first outputs so weak seeds are mixed before use. */
const WARM_UP_ROUNDS = 12
// Arbitrary odd constants that keep the four state words apart even when the seed halves are equal.
const SALT_A = 0x9e3779b9
const SALT_B = 0x85ebca6b
const SALT_C = 0xc2b2ae35
const SALT_D = 0x27d4eb2f

/** MurmurHash3's 32-bit finaliser: a bijection on uint32, so distinct inputs stay distinct. */
export function mix32(value: number): number {
  let h = value >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

// Number#toString(16) dominated generation time for large tenants; a byte table is several times faster.
const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

function hex8(n: number): string {
  return (
    BYTE_HEX[n >>> 24]! + BYTE_HEX[(n >>> 16) & 0xff]! + BYTE_HEX[(n >>> 8) & 0xff]! + BYTE_HEX[n & 0xff]!
  )
}

/** Small Fast Counting generator (sfc32): 128-bit state, good statistical quality, fast in JS. */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a >>> 0
    this.b = b >>> 0
    this.c = c >>> 0
    this.d = d >>> 0
    for (let i = 0; i < WARM_UP_ROUNDS; i++) this.next()
  }

  /** Next uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / UINT32
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1))
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!
  }

  /** Picks a value with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0
    for (const [, w] of entries) total += w
    let roll = this.float() * total
    for (const [value, w] of entries) {
      roll -= w
      if (roll < 0) return value
    }
    return entries[entries.length - 1]![0]
  }

  /** Lower-case hex string of `words` × 8 digits. */
  hex(words: number): string {
    let out = ''
    for (let i = 0; i < words; i++) out += hex8(this.next())
    return out
  }

  /** Random (version 4) GUID in the lower-case 8-4-4-4-12 form Graph uses. */
  guid(): string {
    const a = hex8(this.next())
    const b = this.next()
    const c = this.next()
    const d = hex8(this.next())
    const version = ((b & 0xffff0fff) | 0x00004000) >>> 0
    const variant = ((c & 0x3fffffff) | 0x80000000) >>> 0
    const bh = hex8(version)
    const ch = hex8(variant)
    return `${a}-${bh.slice(0, 4)}-${bh.slice(4)}-${ch.slice(0, 4)}-${ch.slice(4)}${d}`
  }

  /** Upper-case hex, `digits` long (MAC addresses, hardware ids). */
  upperHex(digits: number): string {
    return this.hex(Math.ceil(digits / 8))
      .slice(0, digits)
      .toUpperCase()
  }
}

/** Splits a safe integer seed into two uint32 halves so seeds above 2^32 still differ. */
function seedHalves(seed: number): [number, number] {
  const lo = seed >>> 0
  const hi = Math.floor(seed / UINT32) >>> 0
  return [lo, hi]
}

/**
 * An independent stream for (seed, stream): each physical device gets its own stream, so one device's
 * records do not depend on how many random numbers earlier devices consumed. `namespace` separates
 * families of streams (devices, users, the tenant) that share the same seed.
 */
export function rngFor(seed: number, stream: number, namespace = 0): Rng {
  const [lo, hi] = seedHalves(seed)
  const s = stream >>> 0
  return new Rng(
    mix32(lo ^ mix32(namespace ^ SALT_A)),
    mix32(hi ^ mix32(s ^ SALT_B)),
    mix32(s ^ mix32(lo ^ SALT_C)),
    mix32(mix32(s) ^ hi ^ SALT_D),
  )
}

/** A seed-dependent bijection on uint32: distinct device indices always give distinct values (used for serials). */
export function scramble(seed: number, index: number): number {
  const [lo, hi] = seedHalves(seed)
  return mix32((index ^ mix32(lo ^ mix32(hi ^ SALT_A))) >>> 0)
}
