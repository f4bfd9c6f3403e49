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

/** What one record says about another: the key it points at. */
interface Reference {
  record: number
  key: string
  via: LinkVia
  field: string
  value: string
  /** Which source holds the record this key identifies. */
  target: SourceName
}

export interface Correlation {
  views: DeviceView[]
}

/**
 * Builds the device views. Linear in the number of records (hash maps plus union-find).
 * The result does not depend on input order: views are sorted by key and records by id.
 */
export function correlate(data: TenantData): Correlation {
  const records: AnyRecord[] = [
    ...data.intune.records,
    ...data.entra.records,
    ...data.autopilot.records,
    ...data.defender.records,
  ]
  // Key nodes live after the record nodes in the union-find.
  const keyIndex = new Map<string, number>()
  const references: Reference[] = []
  // Which records *own* a key (Entra for deviceId, Intune for its id); others only point at it.
  const owners = new Map<string, number[]>()

  const own = (key: string, record: number): void => {
    const list = owners.get(key)
    if (list) list.push(record)
    else owners.set(key, [record])
  }
  const keyNode = (key: string): number => {
    let node = keyIndex.get(key)
    if (node === undefined) {
      node = records.length + keyIndex.size
      keyIndex.set(key, node)
    }
    return node
  }

  records.forEach((rec, i) => {
    switch (rec.source) {
      case 'entra':
        if (rec.deviceId) own(`d:${rec.deviceId}`, i)
        break
      case 'intune':
        own(`i:${rec.id.toLowerCase()}`, i)
        if (rec.azureADDeviceId)
          references.push(ref(i, 'd', rec.azureADDeviceId, 'entraDeviceId', 'azureADDeviceId', 'entra'))
        if (rec.serialKey)
          references.push(ref(i, 's', rec.serialKey, 'serialNumber', 'serialNumber', 'autopilot'))
        break
      case 'autopilot':
        if (rec.azureActiveDirectoryDeviceId)
          references.push(
            ref(
              i,
              'd',
              rec.azureActiveDirectoryDeviceId,
              'entraDeviceId',
              'azureActiveDirectoryDeviceId',
              'entra',
            ),
          )
        if (rec.managedDeviceId)
          references.push(ref(i, 'i', rec.managedDeviceId, 'managedDeviceId', 'managedDeviceId', 'intune'))
        if (rec.serialKey)
          references.push(ref(i, 's', rec.serialKey, 'serialNumber', 'serialNumber', 'intune'))
        break
      case 'defender':
        if (rec.aadDeviceId)
          references.push(ref(i, 'd', rec.aadDeviceId, 'entraDeviceId', 'aadDeviceId', 'entra'))
        break
    }
  })
  dropCommonSerials(references)
  for (const key of owners.keys()) keyNode(key)
  for (const r of references) keyNode(r.key)

  const uf = new UnionFind(records.length + keyIndex.size)
  for (const [key, list] of owners) for (const i of list) uf.union(i, keyIndex.get(key)!)
  for (const r of references) uf.union(r.record, keyIndex.get(r.key)!)

  // Group records by root.
  const groups = new Map<number, number[]>()
  for (let i = 0; i < records.length; i++) {
    const root = uf.find(i)
    const g = groups.get(root)
    if (g) g.push(i)
    else groups.set(root, [i])
  }
  const refsByRecord = new Map<number, Reference[]>()
  for (const r of references) {
    const list = refsByRecord.get(r.record)
    if (list) list.push(r)
    else refsByRecord.set(r.record, [r])
  }
  const connected = {
    intune: data.intune.status === 'ok',
    entra: data.entra.status === 'ok',
    autopilot: data.autopilot.status === 'ok',
    defender: data.defender.status === 'ok',
  }

  const views: DeviceView[] = []
  for (const members of groups.values()) {
    views.push(buildView(members, records, refsByRecord, owners, connected, data.teamsSerials))
  }
  views.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return { views }
}

/**
 * One machine has one serial; a serial on more records than a re-imaged device plausibly leaves behind
 * (cloned VMs, a vendor placeholder we do not know) cannot tell machines apart, so it joins nothing.
 */
export const MAX_RECORDS_PER_SERIAL = 8

function dropCommonSerials(references: Reference[]): void {
  const counts = new Map<string, number>()
  for (const r of references) if (r.via === 'serialNumber') counts.set(r.key, (counts.get(r.key) ?? 0) + 1)
  let w = 0
  for (const r of references) {
    if (r.via === 'serialNumber' && counts.get(r.key)! > MAX_RECORDS_PER_SERIAL) continue
    references[w++] = r
  }
  references.length = w
}

function ref(
  record: number,
  kind: 'd' | 'i' | 's',
  value: string,
  via: LinkVia,
  field: string,
  target: SourceName,
): Reference {
  return { record, key: `${kind}:${value}`, via, field, value, target }
}

function buildView(
  members: number[],
  records: AnyRecord[],
  refsByRecord: Map<number, Reference[]>,
  owners: Map<string, number[]>,
  connected: Record<SourceName, boolean>,
  teamsSerials: Set<string> | null,
): DeviceView {
  const entra: EntraRecord[] = []
  const intune: IntuneRecord[] = []
  const autopilot: AutopilotRecord[] = []
  const defender: DefenderRecord[] = []
  const links: Link[] = []
  const dangling: DanglingReference[] = []
  const ambiguities: string[] = []
  /** Keys that a reference already reported as matching several records. */
  const multiOwned = new Set<string>()

  for (const i of members) {
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
    for (const r of refsByRecord.get(i) ?? []) {
      const from = { source: rec.source, id: rec.id }
      if (r.via === 'serialNumber') {
        // Serials join Intune and Autopilot records that share them; record each pairing once (from the lower index).
        for (const j of members) {
          const other = records[j]!
          // Two Autopilot identities on one serial are an ambiguity (below), not a link.
          if (j <= i || (other.source === 'autopilot' && rec.source === 'autopilot')) continue
          const otherSerial =
            other.source === 'intune' || other.source === 'autopilot' ? other.serialKey : null
          if (otherSerial !== r.value) continue
          // A serial link has no direction; order its ends so the output does not depend on input order.
          const to = { source: other.source, id: other.id }
          const [a, b] = `${from.source}:${from.id}` < `${to.source}:${to.id}` ? [from, to] : [to, from]
          links.push({ from: a, to: b, via: 'serialNumber', value: r.value })
        }
        continue
      }
      const targets = owners.get(r.key) ?? []
      if (targets.length === 0) {
        // Only a connected source's silence means "points at nothing" (a missing export says nothing).
        if (connected[r.target]) dangling.push({ from, field: r.field, value: r.value, missingIn: r.target })
        continue
      }
      if (targets.length > 1) {
        multiOwned.add(r.key)
        ambiguities.push(
          `${describe(rec)} ${r.field} "${r.value}" matches ${targets.length} ${r.target} records (${targets
            .map((t) => `"${records[t]!.id}"`)
            .sort()
            .join(', ')})`,
        )
      }
      for (const t of targets)
        links.push({
          from,
          to: { source: records[t]!.source, id: records[t]!.id },
          via: r.via,
          value: r.value,
        })
    }
  }

  const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  entra.sort(byId)
  intune.sort(byId)
  autopilot.sort(byId)
  defender.sort(byId)
  // After sorting, so that the messages do not depend on input order.
  ambiguities.push(
    ...duplicateDeviceIds(entra, multiOwned),
    ...conflictingAutopilotLinks(autopilot, intune),
    ...duplicateSerials(autopilot),
  )
  links.sort((a, b) => linkKey(a).localeCompare(linkKey(b)))
  dangling.sort((a, b) =>
    `${a.from.source}:${a.from.id}:${a.field}`.localeCompare(`${b.from.source}:${b.from.id}:${b.field}`),
  )
  ambiguities.sort()

  const keys = members.map((i) => `${records[i]!.source}:${records[i]!.id}`)
  keys.sort()
  const teamsDevice =
    teamsSerials !== null &&
    [...intune, ...autopilot].some((r) => r.serialKey !== null && teamsSerials.has(r.serialKey))
  return {
    key: keys[0]!,
    entra,
    intune,
    autopilot,
    defender,
    links,
    dangling,
    ambiguities: [...new Set(ambiguities)],
    teamsDevice,
  }
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
