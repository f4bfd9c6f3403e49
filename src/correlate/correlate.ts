/**
 * @module Joins the four sources into one view per physical device, on stable ids only (decisions.md, "Matching records").
 *
 * Entra `deviceId` = Intune `azureADDeviceId` = Autopilot `azureActiveDirectoryDeviceId` = Defender `aadDeviceId`;
 * Autopilot `managedDeviceId` = Intune `id`; serial numbers link Intune and Autopilot. Names never decide.
 * Several records of one kind may land in one view (a re-imaged device keeps its old Intune record and Entra
 * object): they stay separate records so that rules can recommend the superseded one and leave the live one alone.
 */
import type {
  AnyRecord,
  AutopilotRecord,
  DanglingReference,
  DefenderRecord,
  DeviceView,
  EntraRecord,
  IntuneRecord,
  Link,
  LinkVia,
  SourceName,
} from '../domain/device.js'
import { sortedOrder } from '../lib/sort.js'
import type { TenantData } from '../snapshot/read-snapshot.js'
import { BATCH, KeySpace } from './key-space.js'
import { UnionFind } from './union-find.js'

/** What one record says about another: the key it points at. Rebuilt from the record when links are asked for. */
interface Reference {
  key: number
  via: LinkVia
  field: string
  value: string
  /** Which source holds the record this key identifies. */
  target: SourceName
}

/** No key in this slot. */
const NONE = -1

/**
 * What a record let go of (`Correlation.retain`) is replaced by in the index: nothing, so that a view built from it
 * by mistake fails at once rather than showing another device's data.
 */
const DROPPED = undefined as unknown as AnyRecord

/**
 * Records grouped by key, in record order (a compressed adjacency list: `list[start[k]..start[k+1])` are the
 * records that own key k).
 */
interface Owners {
  start: Int32Array
  list: Int32Array
}

/** Owners of each key among records `from..to` (one source's records: they are concatenated by source). */
function ownersOf(keyOf: Int32Array, from: number, to: number, keys: number): Owners {
  const start = new Int32Array(keys + 1)
  for (let i = from; i < to; i++) if (keyOf[i]! !== NONE) start[keyOf[i]! + 1]!++
  for (let k = 0; k < keys; k++) start[k + 1]! += start[k]!
  const list = new Int32Array(start[keys]!)
  const fill = start.slice(0, keys)
  for (let i = from; i < to; i++) if (keyOf[i]! !== NONE) list[fill[keyOf[i]!]!++] = i
  return { start, list }
}

/** Everything needed to build any view of the tenant, computed once by `correlate`. */
interface Index {
  /** Every record, concatenated by source: Intune, Entra, Autopilot, Defender. */
  records: AnyRecord[]
  /** Per record: its Entra deviceId key (owned by Entra objects, pointed at by the others), or NONE. */
  dKey: Int32Array
  /** Per record: its Intune id key (owned by Intune records, pointed at by Autopilot `managedDeviceId`), or NONE. */
  iKey: Int32Array
  /** Per record: its serial key (Intune and Autopilot), or NONE when absent or too common to join anything. */
  sKey: Int32Array
  dOwners: Owners
  iOwners: Owners
  connected: Record<SourceName, boolean>
  /** Per record: 1 when its serial is on the Teams devices list; null when that export is absent. */
  teams: Uint8Array | null
  /** The records of group g are `members[groupStart[g]..groupStart[g + 1])`, in record order. */
  members: Int32Array
  groupStart: Int32Array
  /** Scratch space for one group's members while its view is built (as long as the largest group). */
  scratch: Int32Array
  /** Scratch: where each source's run of those members ends, in RUN_ORDER. */
  runEnd: Int32Array
}

/**
 * The device views of a tenant. Views are built on demand: at a million devices, holding every view (and its
 * arrays) until the report is built was most of the engine's time, spent copying them between the garbage
 * collector's generations, although most devices end up only counted.
 */
export class Correlation {
  readonly #ref: IndexRef
  #views: DeviceView[] | undefined
  /** How many device views the tenant has. */
  readonly size: number

  constructor(index: Index) {
    this.#ref = { index }
    this.size = index.groupStart.length - 1
  }

  get #index(): Index {
    if (this.#ref.index === null)
      throw new Error('the correlation was released: no views can be built from it.')
    return this.#ref.index
  }

  /**
   * Drops the index, which holds every record of the tenant. Views built so far keep their own records but can no
   * longer derive their links. Every view holds the index for its links, so without this the few views a run keeps
   * (the devices its report names) kept the records of every device alive until the report was built.
   */
  release(): void {
    this.#ref.index = null
    this.#views = undefined
  }

  /**
   * Builds each view once and hands it to `visit` with its group number (for `view`); nothing is kept, so a view
   * the caller drops is garbage at once. Views come in an unspecified (but input-determined) order: groups in the
   * order of their first record, which is about the order the records lie in memory.
   */
  forEach(visit: (view: DeviceView, group: number) => void): void {
    const index = this.#index
    for (let g = 0; g < this.size; g++) visit(buildView(index, this.#ref, g), g)
  }

  /** The view of group `group` (a number `forEach` gave), built anew: equal to the one `forEach` built. */
  view(group: number): DeviceView {
    return buildView(this.#index, this.#ref, group)
  }

  /**
   * Lets go of the records of every group but `groups`: no view can be built for the others any more. For a run,
   * which builds views again only for the devices its report names (see `evaluateTenant`).
   */
  retain(groups: readonly number[]): void {
    const { records, members, groupStart } = this.#index
    const keep = new Uint8Array(records.length)
    for (const g of groups) for (let m = groupStart[g]!; m < groupStart[g + 1]!; m++) keep[members[m]!] = 1
    for (let i = 0; i < records.length; i++) if (keep[i] === 0) records[i] = DROPPED
  }

  /**
   * Lets go of the records of one group, once its view is built for the last time (see `retain`). The view keeps
   * its own records, but its `links` can no longer be derived.
   */
  drop(group: number): void {
    const { records, members, groupStart } = this.#index
    for (let m = groupStart[group]!; m < groupStart[group + 1]!; m++) records[members[m]!] = DROPPED
  }

  /**
   * Every view, sorted by key, built on first use and kept. For tests and small tenants; large runs use `forEach`.
   * The result does not depend on input order: views are sorted by key and records by id.
   */
  get views(): DeviceView[] {
    if (this.#views === undefined) {
      const index = this.#index
      const order = groupsByKey(index)
      const views: DeviceView[] = new Array(order.length)
      for (let v = 0; v < order.length; v++) views[v] = buildView(index, this.#ref, order[v]!)
      this.#views = views
    }
    return this.#views
  }
}

/**
 * Builds the device index. Linear in the number of records (hash maps plus union-find over dense ids); views are
 * built from it on demand (`Correlation`).
 */
export function correlate(data: TenantData): Correlation {
  // One copy at its final size: at a million devices, growing it by `push` left tens of megabytes of old copies
  // in the old generation, enough to start a full collection of the whole tenant.
  const records = (data.intune.records as AnyRecord[]).concat(
    data.entra.records,
    data.autopilot.records,
    data.defender.records,
  )
  const n = records.length
  // Records are concatenated by source: Intune, then Entra, then the rest.
  const intuneTo = data.intune.records.length
  const entraFrom = intuneTo
  const entraTo = entraFrom + data.entra.records.length
  // Each Entra object owns one deviceId and each Intune record one id and (usually) one serial; the other records
  // mostly point at those.
  const dKeys = new KeySpace(data.entra.records.length)
  const iKeys = new KeySpace(data.intune.records.length)
  const sKeys = new KeySpace(data.intune.records.length)
  const dKey = new Int32Array(n).fill(NONE)
  const iKey = new Int32Array(n).fill(NONE)
  const sKey = new Int32Array(n).fill(NONE)

  // Keys are looked up a batch at a time (`KeySpace.ids`): the records' keys are gathered first, each record read
  // independently of the others, so that their reads from memory overlap too.
  const d = new KeyBatch(dKeys, false, dKey)
  const intuneIds = new KeyBatch(iKeys, true, iKey)
  const managedIds = new KeyBatch(iKeys, false, iKey)
  const serials = new KeyBatch(sKeys, false, sKey)
  for (let from = 0; from < n; from += BATCH) {
    const to = Math.min(from + BATCH, n)
    for (let i = from; i < to; i++) {
      const rec = records[i]!
      switch (rec.source) {
        case 'entra':
          if (rec.deviceId) d.add(rec.deviceId, i)
          break
        case 'intune':
          intuneIds.add(rec.id, i)
          if (rec.azureADDeviceId) d.add(rec.azureADDeviceId, i)
          if (rec.serialKey) serials.add(rec.serialKey, i)
          break
        case 'autopilot':
          if (rec.azureActiveDirectoryDeviceId) d.add(rec.azureActiveDirectoryDeviceId, i)
          if (rec.managedDeviceId) managedIds.add(rec.managedDeviceId, i)
          if (rec.serialKey) serials.add(rec.serialKey, i)
          break
        case 'defender':
          if (rec.aadDeviceId) d.add(rec.aadDeviceId, i)
          break
      }
    }
    d.flush()
    intuneIds.flush()
    managedIds.flush()
    serials.flush()
  }
  const teams = data.teamsSerials === null ? null : teamsFlags(records, sKey, sKeys, data.teamsSerials)
  dropCommonSerials(sKey, sKeys.size)

  // Key nodes live after the record nodes in the union-find: d keys, then i keys, then serials.
  const dBase = n
  const iBase = dBase + dKeys.size
  const sBase = iBase + iKeys.size
  const uf = new UnionFind(sBase + sKeys.size)
  for (let i = 0; i < n; i++) {
    if (dKey[i]! !== NONE) uf.union(i, dBase + dKey[i]!)
    if (iKey[i]! !== NONE) uf.union(i, iBase + iKey[i]!)
    if (sKey[i]! !== NONE) uf.union(i, sBase + sKey[i]!)
  }

  // Group records by root, groups in order of their first record and members in record order.
  const groupOfRoot = new Int32Array(uf.size).fill(NONE)
  const groupOf = new Int32Array(n)
  let groups = 0
  for (let i = 0; i < n; i++) {
    const root = uf.find(i)
    let g = groupOfRoot[root]!
    if (g === NONE) {
      g = groups++
      groupOfRoot[root] = g
    }
    groupOf[i] = g
  }
  const groupStart = new Int32Array(groups + 1)
  for (let i = 0; i < n; i++) groupStart[groupOf[i]! + 1]!++
  let largest = 0
  for (let g = 0; g < groups; g++) {
    if (groupStart[g + 1]! > largest) largest = groupStart[g + 1]!
    groupStart[g + 1]! += groupStart[g]!
  }
  const members = new Int32Array(n)
  const fill = groupStart.slice(0, groups)
  for (let i = 0; i < n; i++) members[fill[groupOf[i]!]!++] = i

  return new Correlation({
    records,
    dKey,
    iKey,
    sKey,
    dOwners: ownersOf(dKey, entraFrom, entraTo, dKeys.size),
    iOwners: ownersOf(iKey, 0, intuneTo, iKeys.size),
    connected: {
      intune: data.intune.status === 'ok',
      entra: data.entra.status === 'ok',
      autopilot: data.autopilot.status === 'ok',
      defender: data.defender.status === 'ok',
    },
    teams,
    members,
    groupStart: groupStart.subarray(0, groups + 1),
    scratch: new Int32Array(largest),
    runEnd: new Int32Array(RUN_ORDER.length),
  })
}

/** The keys of one kind from a batch of records, looked up together and stored per record (`KeySpace.ids`). */
class KeyBatch {
  readonly #values: string[] = new Array(BATCH)
  readonly #records = new Int32Array(BATCH)
  readonly #ids = new Int32Array(BATCH)
  #count = 0

  constructor(
    private readonly keys: KeySpace,
    private readonly lowerCase: boolean,
    private readonly keyOf: Int32Array,
  ) {}

  add(value: string, record: number): void {
    this.#values[this.#count] = value
    this.#records[this.#count++] = record
  }

  flush(): void {
    const count = this.#count
    if (count === 0) return
    this.keys.ids(this.#values, count, this.lowerCase, this.#ids)
    for (let k = 0; k < count; k++) this.keyOf[this.#records[k]!] = this.#ids[k]!
    this.#count = 0
  }
}

/** The record with the smallest `source:id`: no source name is a prefix of another, so (source, id) orders the same. */
function smallestRecord(members: Int32Array, from: number, to: number, records: AnyRecord[]): number {
  let best = members[from]!
  for (let m = from + 1; m < to; m++) {
    const i = members[m]!
    const rec = records[i]!
    const min = records[best]!
    if (rec.source < min.source || (rec.source === min.source && rec.id < min.id)) best = i
  }
  return best
}

/** Alphabetical order of the source names. */
const SOURCE_RANK: Record<SourceName, number> = { autopilot: 0, defender: 1, entra: 2, intune: 3 }
const PREFIX_CHARS = 7

/**
 * A number that orders view keys (`source:id`) as their text does, or ties: the source's rank, then the id's first
 * 7 characters at 7 bits each (51 bits, exact in a double). A character past 7 bits stops the encoding, so the
 * prefix never contradicts the text (a tie falls back to comparing the text).
 */
function keyPrefix(rec: AnyRecord): number {
  let prefix = SOURCE_RANK[rec.source]
  const id = rec.id
  let stopped = false
  for (let k = 0; k < PREFIX_CHARS; k++) {
    let c = 0
    if (!stopped && k < id.length) {
      c = id.charCodeAt(k)
      if (c >= 127) {
        c = 127
        stopped = true
      }
    }
    prefix = prefix * 128 + c
  }
  return prefix
}

/** Every group, in the order of their view keys, as a stable sort on the key text would give. */
function groupsByKey(index: Index): number[] {
  const { members, groupStart, records } = index
  const groups = groupStart.length - 1
  const keyRecord = new Int32Array(groups)
  for (let g = 0; g < groups; g++)
    keyRecord[g] = smallestRecord(members, groupStart[g]!, groupStart[g + 1]!, records)
  const prefix = new Float64Array(groups)
  for (let k = 0; k < groups; k++) prefix[k] = keyPrefix(records[keyRecord[k]!]!)
  // Same prefix, so the same source: the ids decide.
  return sortedOrder(prefix, (a, b) => {
    const ia = records[keyRecord[a]!]!.id
    const ib = records[keyRecord[b]!]!.id
    return ia < ib ? -1 : ia > ib ? 1 : 0
  })
}

/**
 * Per record: whether its serial key is on the Teams list, decided once per key rather than once per view by
 * hashing the serial's text (the serial keys are numbered already). Before common serials are dropped: the list
 * names a serial however many records carry it.
 */
function teamsFlags(records: AnyRecord[], sKey: Int32Array, sKeys: KeySpace, list: Set<string>): Uint8Array {
  const listed = new Set<number>()
  for (const serial of list) if (serial !== '') listed.add(sKeys.id(serial))
  const onList = new Uint8Array(sKeys.size)
  for (const k of listed) onList[k] = 1
  const flags = new Uint8Array(records.length)
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!
    if (rec.source !== 'intune' && rec.source !== 'autopilot') continue
    // An empty serial key has no key id; the list may still hold "".
    if (sKey[i]! !== NONE ? onList[sKey[i]!] === 1 : rec.serialKey === '' && list.has('')) flags[i] = 1
  }
  return flags
}

/**
 * One machine has one serial; a serial on more records than a re-imaged device plausibly leaves behind
 * (cloned VMs, a vendor placeholder we do not know) cannot tell machines apart, so it joins nothing.
 */
export const MAX_RECORDS_PER_SERIAL = 8

function dropCommonSerials(sKey: Int32Array, serials: number): void {
  const counts = new Int32Array(serials)
  for (let i = 0; i < sKey.length; i++) if (sKey[i]! !== NONE) counts[sKey[i]!]!++
  for (let i = 0; i < sKey.length; i++)
    if (sKey[i]! !== NONE && counts[sKey[i]!]! > MAX_RECORDS_PER_SERIAL) sKey[i] = NONE
}

/** The references a record makes, in a fixed order (the order the messages and links are built in). */
function referencesOf(rec: AnyRecord, i: number, index: Index): Reference[] {
  const out: Reference[] = []
  switch (rec.source) {
    case 'intune':
      if (rec.azureADDeviceId)
        out.push(reference(index.dKey[i]!, 'entraDeviceId', 'azureADDeviceId', rec.azureADDeviceId, 'entra'))
      if (rec.serialKey && index.sKey[i]! !== NONE)
        out.push(reference(index.sKey[i]!, 'serialNumber', 'serialNumber', rec.serialKey, 'autopilot'))
      break
    case 'autopilot':
      if (rec.azureActiveDirectoryDeviceId)
        out.push(
          reference(
            index.dKey[i]!,
            'entraDeviceId',
            'azureActiveDirectoryDeviceId',
            rec.azureActiveDirectoryDeviceId,
            'entra',
          ),
        )
      if (rec.managedDeviceId)
        out.push(
          reference(index.iKey[i]!, 'managedDeviceId', 'managedDeviceId', rec.managedDeviceId, 'intune'),
        )
      if (rec.serialKey && index.sKey[i]! !== NONE)
        out.push(reference(index.sKey[i]!, 'serialNumber', 'serialNumber', rec.serialKey, 'intune'))
      break
    case 'defender':
      if (rec.aadDeviceId)
        out.push(reference(index.dKey[i]!, 'entraDeviceId', 'aadDeviceId', rec.aadDeviceId, 'entra'))
      break
    case 'entra':
      break
  }
  return out
}

function reference(key: number, via: LinkVia, field: string, value: string, target: SourceName): Reference {
  return { key, via, field, value, target }
}

/** Sorts by a string computed once per element (not once per comparison), with `localeCompare` as before. */
function sortByKey<T>(items: T[], keyOf: (item: T) => string): void {
  if (items.length < 2) return
  const keyed = items.map((item, i) => ({ item, key: keyOf(item), i }))
  keyed.sort((a, b) => a.key.localeCompare(b.key) || a.i - b.i)
  for (let i = 0; i < keyed.length; i++) items[i] = keyed[i]!.item
}

/**
 * Shared by every view with no entry in a list: most devices have no dangling reference, no ambiguity and no
 * record in some source. Frozen, so that no caller can edit one view's list and with it every other view's.
 */
const EMPTY: never[] = Object.freeze([]) as unknown as never[]

/**
 * One device. `links` are derived on demand from the tenant index: nothing in a run reads them (they explain a
 * view), and they were most of a view's memory.
 */
class CorrelatedView implements DeviceView {
  readonly #ref: IndexRef
  readonly #group: number
  /** The record whose `source:id` is the view's key. */
  readonly #keyRecord: AnyRecord
  #key: string | undefined
  constructor(
    ref: IndexRef,
    group: number,
    keyRecord: AnyRecord,
    readonly entra: EntraRecord[],
    readonly intune: IntuneRecord[],
    readonly autopilot: AutopilotRecord[],
    readonly defender: DefenderRecord[],
    readonly dangling: DanglingReference[],
    readonly ambiguities: string[],
    readonly teamsDevice: boolean,
  ) {
    this.#ref = ref
    this.#group = group
    this.#keyRecord = keyRecord
  }

  /**
   * `source:id` of the view's smallest record, made when first asked for: most views are only evaluated, and at a
   * million devices making every key was a million strings for the garbage collector.
   */
  get key(): string {
    this.#key ??= `${this.#keyRecord.source}:${this.#keyRecord.id}`
    return this.#key
  }

  get links(): Link[] {
    const index = this.#ref.index
    if (index === null)
      throw new Error(
        `the links of device ${this.key} are gone: its correlation was released after evaluation.`,
      )
    return linksOf(index, this.#group)
  }
}

/**
 * Sorts `scratch[from..to)` (record indices) by record id, keeping record order among equal ids: the order
 * `Array.prototype.sort` with `byId` gave. Runs are short (one record, usually), so insertion sort.
 */
function sortRun(scratch: Int32Array, from: number, to: number, records: AnyRecord[]): void {
  for (let a = from + 1; a < to; a++) {
    const i = scratch[a]!
    const id = records[i]!.id
    let b = a - 1
    while (b >= from && records[scratch[b]!]!.id > id) {
      scratch[b + 1] = scratch[b]!
      b--
    }
    scratch[b + 1] = i
  }
}

function recordsIn<T extends AnyRecord>(
  scratch: Int32Array,
  from: number,
  to: number,
  records: AnyRecord[],
): T[] {
  if (from === to) return EMPTY
  if (to - from === 1) return [records[scratch[from]!]! as T]
  const out = new Array<T>(to - from)
  for (let m = from; m < to; m++) out[m - from] = records[scratch[m]!]! as T
  return out
}

/** Which source each position of a group's run holds: members are in record order, so sources come in this order. */
const RUN_ORDER = ['intune', 'entra', 'autopilot', 'defender'] as const

/** The index, as views hold it: through this box, which `Correlation.release` empties. */
interface IndexRef {
  index: Index | null
}

function buildView(index: Index, ref: IndexRef, g: number): DeviceView {
  const { records, members, scratch } = index
  const from = index.groupStart[g]!
  const to = index.groupStart[g + 1]!
  const size = to - from
  // Copy the members (in record order, so grouped by source in RUN_ORDER) and find where each source's run ends.
  const runEnd = index.runEnd
  let run = 0
  for (let m = 0; m < size; m++) {
    const i = members[from + m]!
    scratch[m] = i
    const source = records[i]!.source
    while (RUN_ORDER[run] !== source) runEnd[run++] = m
  }
  while (run < 4) runEnd[run++] = size
  const intuneTo = runEnd[0]!
  const entraTo = runEnd[1]!
  const autopilotTo = runEnd[2]!

  let dangling: DanglingReference[] | null = null
  let ambiguities: string[] | null = null
  /** Keys that a reference already reported as matching several records. */
  let multiOwned: Set<string> | null = null
  // Dangling references and ambiguous ones, from every record but Entra objects, in record order (as links are).
  for (let m = 0; m < size; m++) {
    if (m === intuneTo) m = entraTo
    if (m >= size) break
    const i = scratch[m]!
    const rec = records[i]!
    let key = NONE
    let via: LinkVia = 'entraDeviceId'
    let field = ''
    let value: string | null = null
    let target: SourceName = 'entra'
    // At most two references per record can dangle or be ambiguous (serials do neither).
    for (let r = 0; r < 2; r++) {
      value = null
      switch (rec.source) {
        case 'intune':
          if (r === 0 && rec.azureADDeviceId) {
            key = index.dKey[i]!
            via = 'entraDeviceId'
            field = 'azureADDeviceId'
            value = rec.azureADDeviceId
            target = 'entra'
          }
          break
        case 'autopilot':
          if (r === 0 && rec.azureActiveDirectoryDeviceId) {
            key = index.dKey[i]!
            via = 'entraDeviceId'
            field = 'azureActiveDirectoryDeviceId'
            value = rec.azureActiveDirectoryDeviceId
            target = 'entra'
          } else if (r === 1 && rec.managedDeviceId) {
            key = index.iKey[i]!
            via = 'managedDeviceId'
            field = 'managedDeviceId'
            value = rec.managedDeviceId
            target = 'intune'
          }
          break
        case 'defender':
          if (r === 0 && rec.aadDeviceId) {
            key = index.dKey[i]!
            via = 'entraDeviceId'
            field = 'aadDeviceId'
            value = rec.aadDeviceId
            target = 'entra'
          }
          break
        case 'entra':
          break
      }
      if (value === null) continue
      const owners = via === 'managedDeviceId' ? index.iOwners : index.dOwners
      const first = owners.start[key]!
      const count = owners.start[key + 1]! - first
      if (count === 0) {
        // Only a connected source's silence means "points at nothing" (a missing export says nothing).
        if (index.connected[target]) {
          dangling ??= []
          dangling.push({ from: { source: rec.source, id: rec.id }, field, value, missingIn: target })
        }
      } else if (count > 1) {
        multiOwned ??= new Set()
        multiOwned.add(`${via === 'managedDeviceId' ? 'i' : 'd'}:${value}`)
        const ids: string[] = []
        for (let t = first; t < first + count; t++) ids.push(`"${records[owners.list[t]!]!.id}"`)
        ambiguities ??= []
        ambiguities.push(
          `${describe(rec)} ${field} "${value}" matches ${count} ${target} records (${ids.sort().join(', ')})`,
        )
      }
    }
  }

  sortRun(scratch, 0, intuneTo, records)
  sortRun(scratch, intuneTo, entraTo, records)
  sortRun(scratch, entraTo, autopilotTo, records)
  sortRun(scratch, autopilotTo, size, records)
  const intune = recordsIn<IntuneRecord>(scratch, 0, intuneTo, records)
  const entra = recordsIn<EntraRecord>(scratch, intuneTo, entraTo, records)
  const autopilot = recordsIn<AutopilotRecord>(scratch, entraTo, autopilotTo, records)
  const defender = recordsIn<DefenderRecord>(scratch, autopilotTo, size, records)

  // After sorting, so that the messages do not depend on input order.
  if (entra.length > 1) {
    const found = duplicateDeviceIds(entra, multiOwned ?? new Set())
    if (found.length) ambiguities = [...(ambiguities ?? []), ...found]
  }
  if (autopilot.length > 0) {
    const found = conflictingAutopilotLinks(index, scratch, entraTo, autopilotTo, intuneTo)
    if (autopilot.length > 1) found.push(...duplicateSerials(autopilot))
    if (found.length) ambiguities = [...(ambiguities ?? []), ...found]
  }
  if (dangling !== null) sortByKey(dangling, (d) => `${d.from.source}:${d.from.id}:${d.field}`)
  if (ambiguities !== null) {
    ambiguities.sort()
    if (ambiguities.length > 1) ambiguities = [...new Set(ambiguities)]
  }

  // The smallest `source:id`: the first record (ids are sorted) of the first source in alphabetical order.
  const keyRec = autopilot[0] ?? defender[0] ?? entra[0] ?? intune[0]!
  return new CorrelatedView(
    ref,
    g,
    keyRec,
    entra,
    intune,
    autopilot,
    defender,
    dangling ?? EMPTY,
    ambiguities ?? EMPTY,
    index.teams !== null &&
      (anyOnTeamsList(index.teams, scratch, 0, intuneTo) ||
        anyOnTeamsList(index.teams, scratch, entraTo, autopilotTo)),
  )
}

/** The links between the records of group g, sorted: derived from the index, so a view need not hold them. */
function linksOf(index: Index, g: number): Link[] {
  const { records, members } = index
  const from = index.groupStart[g]!
  const to = index.groupStart[g + 1]!
  const links: Link[] = []
  for (let m = from; m < to; m++) {
    const i = members[m]!
    const rec = records[i]!
    if (rec.source === 'entra') continue
    const fromRef = { source: rec.source, id: rec.id }
    for (const r of referencesOf(rec, i, index)) {
      if (r.via === 'serialNumber') {
        // Serials join Intune and Autopilot records that share them; record each pairing once (from the lower index).
        for (let o = from; o < to; o++) {
          const j = members[o]!
          const other = records[j]!
          // Two Autopilot identities on one serial are an ambiguity, not a link.
          if (j <= i || (other.source === 'autopilot' && rec.source === 'autopilot')) continue
          const otherSerial =
            other.source === 'intune' || other.source === 'autopilot' ? other.serialKey : null
          if (otherSerial !== r.value) continue
          // A serial link has no direction; order its ends so the output does not depend on input order.
          const toRef = { source: other.source, id: other.id }
          const [a, b] =
            `${fromRef.source}:${fromRef.id}` < `${toRef.source}:${toRef.id}`
              ? [fromRef, toRef]
              : [toRef, fromRef]
          links.push({ from: a, to: b, via: 'serialNumber', value: r.value })
        }
        continue
      }
      const owners = r.via === 'managedDeviceId' ? index.iOwners : index.dOwners
      const first = owners.start[r.key]!
      const count = owners.start[r.key + 1]! - first
      for (let t = first; t < first + count; t++) {
        const target = records[owners.list[t]!]!
        links.push({
          from: fromRef,
          to: { source: target.source, id: target.id },
          via: r.via,
          value: r.value,
        })
      }
    }
  }
  sortByKey(links, linkKey)
  return links
}

/** Whether any record `scratch[from..to)` is on the Teams devices list. */
function anyOnTeamsList(teams: Uint8Array, scratch: Int32Array, from: number, to: number): boolean {
  for (let m = from; m < to; m++) if (teams[scratch[m]!] === 1) return true
  return false
}

/**
 * An Autopilot identity whose `managedDeviceId` points at an Intune record that names another Entra device
 * than the identity's own `azureActiveDirectoryDeviceId`: two records compete for one link. The identities are
 * `scratch[from..to)`, the Intune records `scratch[0..intuneTo)`, both sorted by id; Intune ids are compared as
 * their (lower-case) join keys, which the index already holds.
 */
function conflictingAutopilotLinks(
  index: Index,
  scratch: Int32Array,
  from: number,
  to: number,
  intuneTo: number,
): string[] {
  const out: string[] = []
  if (intuneTo === 0) return out
  const { records, iKey } = index
  for (let a = from; a < to; a++) {
    const ap = records[scratch[a]!]! as AutopilotRecord
    if (!ap.managedDeviceId || !ap.azureActiveDirectoryDeviceId) continue
    const wanted = iKey[scratch[a]!]!
    let md: IntuneRecord | undefined
    for (let m = 0; m < intuneTo; m++) {
      if (iKey[scratch[m]!]! === wanted) {
        md = records[scratch[m]!]! as IntuneRecord
        break
      }
    }
    if (md?.azureADDeviceId && md.azureADDeviceId !== ap.azureActiveDirectoryDeviceId) {
      out.push(
        `Autopilot identity "${ap.id}" names Entra device "${ap.azureActiveDirectoryDeviceId}" but its Intune record "${md.id}" names "${md.azureADDeviceId}"`,
      )
    }
  }
  return out
}

/** Windows Autopilot holds one identity per hardware hash, so two identities with one serial are two machines or an error. */
function duplicateSerials(autopilot: AutopilotRecord[]): string[] {
  const seen = new Map<string, string>()
  const out: string[] = []
  for (const ap of autopilot) {
    if (!ap.serialKey) continue
    const first = seen.get(ap.serialKey)
    if (first)
      out.push(`Autopilot identities "${first}" and "${ap.id}" share serial number "${ap.serialKey}"`)
    else seen.set(ap.serialKey, ap.id)
  }
  return out
}

/** Entra `deviceId` is unique per device; two objects carrying one cannot be told apart (a broken sync or restore). */
function duplicateDeviceIds(entra: EntraRecord[], alreadyReported: Set<string>): string[] {
  const byDeviceId = new Map<string, string[]>()
  for (const e of entra) {
    if (!e.deviceId) continue
    const list = byDeviceId.get(e.deviceId)
    if (list) list.push(e.id)
    else byDeviceId.set(e.deviceId, [e.id])
  }
  return [...byDeviceId]
    .filter(([deviceId, ids]) => ids.length > 1 && !alreadyReported.has(`d:${deviceId}`))
    .map(
      ([deviceId, ids]) =>
        `Entra objects ${ids.map((id) => `"${id}"`).join(', ')} share deviceId "${deviceId}"`,
    )
}

function describe(rec: AnyRecord): string {
  const title = {
    intune: 'Intune record',
    entra: 'Entra object',
    autopilot: 'Autopilot identity',
    defender: 'Defender machine',
  }[rec.source]
  return `${title} "${rec.id}"`
}

function linkKey(l: Link): string {
  return `${l.from.source}:${l.from.id}>${l.to.source}:${l.to.id}:${l.via}`
}
