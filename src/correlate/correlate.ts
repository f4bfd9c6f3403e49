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
import type { TenantData } from '../snapshot/read-snapshot.js'
import { UnionFind } from './union-find.js'

/** What one record says about another: the key it points at. Rebuilt per view from the record, never stored. */
interface Reference {
  key: number
  via: LinkVia
  field: string
  value: string
  /** Which source holds the record this key identifies. */
  target: SourceName
}

export interface Correlation {
  views: DeviceView[]
}

/** No key in this slot. */
const NONE = -1

/**
 * Dense integer ids for the join keys of one kind. At a million devices, numbers in typed arrays instead of
 * per-record key strings, reference objects and per-key arrays keep the heap (and so the garbage collector's work,
 * which grows with it) small: the previous string-keyed version spent most of its time there.
 */
class KeySpace {
  private readonly ids = new Map<string, number>()
  id(value: string): number {
    let id = this.ids.get(value)
    if (id === undefined) {
      id = this.ids.size
      this.ids.set(value, id)
    }
    return id
  }
  get size(): number {
    return this.ids.size
  }
}

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

/** Everything `buildView` needs about the whole tenant. */
interface Index {
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
  teamsSerials: Set<string> | null
  /** Per record: the `{ source, id }` that links and dangling references name it by, built once and shared. */
  ends: (RecordRef | undefined)[]
}

type RecordRef = Link['from']

function endOf(i: number, index: Index): RecordRef {
  let end = index.ends[i]
  if (end === undefined) {
    const rec = index.records[i]!
    end = { source: rec.source, id: rec.id }
    index.ends[i] = end
  }
  return end
}

/**
 * Builds the device views. Linear in the number of records (hash maps plus union-find over dense ids).
 * The result does not depend on input order: views are sorted by key and records by id.
 */
export function correlate(data: TenantData): Correlation {
  const records: AnyRecord[] = []
  for (const load of [data.intune, data.entra, data.autopilot, data.defender])
    for (const r of load.records as AnyRecord[]) records.push(r)
  const n = records.length
  // Records are concatenated by source: Intune, then Entra, then the rest.
  const intuneTo = data.intune.records.length
  const entraFrom = intuneTo
  const entraTo = entraFrom + data.entra.records.length
  const dKeys = new KeySpace()
  const iKeys = new KeySpace()
  const sKeys = new KeySpace()
  const dKey = new Int32Array(n).fill(NONE)
  const iKey = new Int32Array(n).fill(NONE)
  const sKey = new Int32Array(n).fill(NONE)

  for (let i = 0; i < n; i++) {
    const rec = records[i]!
    switch (rec.source) {
      case 'entra':
        if (rec.deviceId) dKey[i] = dKeys.id(rec.deviceId)
        break
      case 'intune':
        iKey[i] = iKeys.id(rec.id.toLowerCase())
        if (rec.azureADDeviceId) dKey[i] = dKeys.id(rec.azureADDeviceId)
        if (rec.serialKey) sKey[i] = sKeys.id(rec.serialKey)
        break
      case 'autopilot':
        if (rec.azureActiveDirectoryDeviceId) dKey[i] = dKeys.id(rec.azureActiveDirectoryDeviceId)
        if (rec.managedDeviceId) iKey[i] = iKeys.id(rec.managedDeviceId)
        if (rec.serialKey) sKey[i] = sKeys.id(rec.serialKey)
        break
      case 'defender':
        if (rec.aadDeviceId) dKey[i] = dKeys.id(rec.aadDeviceId)
        break
    }
  }
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
  for (let g = 0; g < groups; g++) groupStart[g + 1]! += groupStart[g]!
  const members = new Int32Array(n)
  const fill = groupStart.slice(0, groups)
  for (let i = 0; i < n; i++) members[fill[groupOf[i]!]!++] = i

  const index: Index = {
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
    teamsSerials: data.teamsSerials,
    ends: new Array(n),
  }
  const views: DeviceView[] = new Array(groups)
  // Views are built in key order, so that they (and their arrays) lie in memory in the order everything after
  // correlation visits them: at a million devices, visiting views spread across the heap was a cache miss each.
  const keyRecord = new Int32Array(groups)
  for (let g = 0; g < groups; g++)
    keyRecord[g] = smallestRecord(members, groupStart[g]!, groupStart[g + 1]!, records)
  const order = groupsByKey(keyRecord, records)
  for (let v = 0; v < groups; v++) {
    const g = order[v]!
    views[v] = buildView(members, groupStart[g]!, groupStart[g + 1]!, index, keyRecord[g]!)
  }
  return { views }
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

/**
 * Groups in the order of their view keys, as a stable sort on the key text would give. At a million views,
 * comparing key strings meant a cache miss per comparison (the strings are spread over a heap of gigabytes); the
 * numeric prefixes sit in one array and decide almost every comparison.
 */
function groupsByKey(keyRecord: Int32Array, records: AnyRecord[]): number[] {
  const groups = keyRecord.length
  const prefix = new Float64Array(groups)
  for (let g = 0; g < groups; g++) prefix[g] = keyPrefix(records[keyRecord[g]!]!)
  const order = new Array<number>(groups)
  for (let g = 0; g < groups; g++) order[g] = g
  order.sort((a, b) => {
    const d = prefix[a]! - prefix[b]!
    if (d !== 0) return d
    // Same prefix, so the same source: the ids decide.
    const ia = records[keyRecord[a]!]!.id
    const ib = records[keyRecord[b]!]!.id
    return ia < ib ? -1 : ia > ib ? 1 : a - b
  })
  return order
}

/**
 * One machine has one serial; a serial on more records than a re-imaged device plausibly leaves behind
 * (cloned VMs, a vendor placeholder we do not know) cannot tell machines apart, so it joins nothing.
 */
export const MAX_RECORDS_PER_SERIAL = 8

function dropCommonSerials(sKey: Int32Array, serials: number): void {
  const counts = new Int32Array(serials)
  for (const k of sKey) if (k !== NONE) counts[k]!++
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

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Sorts by a string computed once per element (not once per comparison), with `localeCompare` as before. */
function sortByKey<T>(items: T[], keyOf: (item: T) => string): void {
  if (items.length < 2) return
  const keyed = items.map((item, i) => ({ item, key: keyOf(item), i }))
  keyed.sort((a, b) => a.key.localeCompare(b.key) || a.i - b.i)
  for (let i = 0; i < keyed.length; i++) items[i] = keyed[i]!.item
}

function buildView(
  members: Int32Array,
  from: number,
  to: number,
  index: Index,
  keyRecord: number,
): DeviceView {
  const { records } = index
  const entra: EntraRecord[] = []
  const intune: IntuneRecord[] = []
  const autopilot: AutopilotRecord[] = []
  const defender: DefenderRecord[] = []
  const links: Link[] = []
  const dangling: DanglingReference[] = []
  const ambiguities: string[] = []
  /** Keys that a reference already reported as matching several records. */
  let multiOwned: Set<string> | null = null

  for (let m = from; m < to; m++) {
    const i = members[m]!
    const rec = records[i]!
    switch (rec.source) {
      case 'entra':
        entra.push(rec)
        break
      case 'intune':
        intune.push(rec)
        break
      case 'autopilot':
        autopilot.push(rec)
        break
      case 'defender':
        defender.push(rec)
        break
    }
    if (rec.source === 'entra') continue
    for (const r of referencesOf(rec, i, index)) {
      const fromRef = endOf(i, index)
      if (r.via === 'serialNumber') {
        // Serials join Intune and Autopilot records that share them; record each pairing once (from the lower index).
        for (let o = from; o < to; o++) {
          const j = members[o]!
          const other = records[j]!
          // Two Autopilot identities on one serial are an ambiguity (below), not a link.
          if (j <= i || (other.source === 'autopilot' && rec.source === 'autopilot')) continue
          const otherSerial =
            other.source === 'intune' || other.source === 'autopilot' ? other.serialKey : null
          if (otherSerial !== r.value) continue
          // A serial link has no direction; order its ends so the output does not depend on input order.
          const toRef = endOf(j, index)
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
      if (count === 0) {
        // Only a connected source's silence means "points at nothing" (a missing export says nothing).
        if (index.connected[r.target])
          dangling.push({ from: fromRef, field: r.field, value: r.value, missingIn: r.target })
        continue
      }
      if (count > 1) {
        multiOwned ??= new Set()
        multiOwned.add(`${r.via === 'managedDeviceId' ? 'i' : 'd'}:${r.value}`)
        const ids: string[] = []
        for (let t = first; t < first + count; t++) ids.push(`"${records[owners.list[t]!]!.id}"`)
        ambiguities.push(
          `${describe(rec)} ${r.field} "${r.value}" matches ${count} ${r.target} records (${ids.sort().join(', ')})`,
        )
      }
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

  entra.sort(byId)
  intune.sort(byId)
  autopilot.sort(byId)
  defender.sort(byId)
  // After sorting, so that the messages do not depend on input order.
  if (entra.length > 1) ambiguities.push(...duplicateDeviceIds(entra, multiOwned ?? new Set()))
  if (autopilot.length > 0) {
    ambiguities.push(...conflictingAutopilotLinks(autopilot, intune))
    if (autopilot.length > 1) ambiguities.push(...duplicateSerials(autopilot))
  }
  sortByKey(links, linkKey)
  sortByKey(dangling, (d) => `${d.from.source}:${d.from.id}:${d.field}`)
  ambiguities.sort()

  const keyRec = records[keyRecord]!
  return {
    key: `${keyRec.source}:${keyRec.id}`,
    entra: compact(entra),
    intune: compact(intune),
    autopilot: compact(autopilot),
    defender: compact(defender),
    links: compact(links),
    dangling: compact(dangling),
    ambiguities: ambiguities.length > 1 ? [...new Set(ambiguities)] : compact(ambiguities),
    teamsDevice:
      index.teamsSerials !== null &&
      (onTeamsList(intune, index.teamsSerials) || onTeamsList(autopilot, index.teamsSerials)),
  }
}

/**
 * The array at its exact length. An array grown by `push` keeps room for 17 elements; views live until the report
 * is built, and at a million devices that slack was most of their memory, copied by every young-generation GC.
 */
function compact<T>(items: T[]): T[] {
  return items.length === 0 ? [] : items.slice()
}

function onTeamsList(records: (IntuneRecord | AutopilotRecord)[], teamsSerials: Set<string>): boolean {
  for (const r of records) if (r.serialKey !== null && teamsSerials.has(r.serialKey)) return true
  return false
}

/**
 * An Autopilot identity whose `managedDeviceId` points at an Intune record that names another Entra device
 * than the identity's own `azureActiveDirectoryDeviceId`: two records compete for one link.
 */
function conflictingAutopilotLinks(autopilot: AutopilotRecord[], intune: IntuneRecord[]): string[] {
  const out: string[] = []
  for (const ap of autopilot) {
    if (!ap.managedDeviceId || !ap.azureActiveDirectoryDeviceId) continue
    const md = intune.find((m) => m.id.toLowerCase() === ap.managedDeviceId)
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
