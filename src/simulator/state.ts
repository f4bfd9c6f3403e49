/** @module The simulator's mutable tenant: collections with stable paging order, pending async effects and the call log. */
import type { RecordedCall, RequestLogEntry, SimulatorData } from './types.js'

export type Rec = Record<string, unknown>

export const COLLECTIONS = [
  'managedDevices',
  'devices',
  'windowsAutopilotDeviceIdentities',
  'machines',
  'teamworkDevices',
] as const
export type CollectionName = (typeof COLLECTIONS)[number]

interface Entry {
  /** Insertion order; paging tokens remember the last one served, so deletions never shift a page. */
  seq: number
  rec: Rec
}

/** One collection in insertion order, indexed by id (Graph GUIDs and Defender hex ids compare case-insensitively). */
export class Collection {
  private entries: Entry[] = []
  private readonly byId = new Map<string, Entry>()
  private nextSeq = 1

  constructor(records: readonly object[]) {
    // Copies, so mutations never reach the caller's data.
    for (const r of structuredClone(records) as Rec[]) this.add(r)
  }

  add(rec: Rec): void {
    const entry = { seq: this.nextSeq++, rec }
    this.entries.push(entry)
    const id = rec.id
    if (typeof id === 'string' && !this.byId.has(id.toLowerCase())) this.byId.set(id.toLowerCase(), entry)
  }

  get(id: string): Rec | undefined {
    return this.byId.get(id.toLowerCase())?.rec
  }

  remove(id: string): boolean {
    const entry = this.byId.get(id.toLowerCase())
    if (!entry) return false
    this.byId.delete(id.toLowerCase())
    this.entries = this.entries.filter((e) => e !== entry)
    return true
  }

  /** Records after `afterSeq` (0 = from the start) that match, up to `limit`, and whether more follow. */
  page(afterSeq: number, limit: number, match: (r: Rec) => boolean): { items: Entry[]; more: boolean } {
    const items: Entry[] = []
    let i = lowerBound(this.entries, afterSeq + 1)
    for (; i < this.entries.length; i++) {
      const e = this.entries[i]!
      if (!match(e.rec)) continue
      if (items.length === limit) return { items, more: true }
      items.push(e)
    }
    return { items, more: false }
  }

  /** All matching records in order (Defender pages with $skip over this). */
  filter(match: (r: Rec) => boolean): Rec[] {
    return this.entries.filter((e) => match(e.rec)).map((e) => e.rec)
  }

  all(): Rec[] {
    return this.entries.map((e) => e.rec)
  }

  get size(): number {
    return this.entries.length
  }
}

function lowerBound(entries: readonly Entry[], seq: number): number {
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (entries[mid]!.seq < seq) lo = mid + 1
    else hi = mid
  }
  return lo
}

export interface MachineAction extends Rec {
  id: string
  type: string
  status: string
  machineId: string
  creationDateTimeUtc: string
  lastUpdateDateTimeUtc: string
}

interface PendingAction {
  action: MachineAction
  dueAt: number
}

export interface StateOptions {
  clock: () => number
  autopilotDeleteDelayMs: number
  machineActionDelayMs: number
  failingMachines?: ReadonlySet<string>
  intuneDeleteDelayMs?: number
}

/** Everything that changes while the simulator runs. Time-based effects settle lazily on every request (`settle`). */
export class SimState {
  readonly collections: Record<CollectionName, Collection>
  /** Kept apart from COLLECTIONS: keys are not a device inventory that snapshots load or the product reads. */
  readonly bitlockerRecoveryKeys: Collection
  readonly machineActions: MachineAction[] = []
  private readonly pendingActions: PendingAction[] = []
  /** Autopilot identities being deregistered: id → when they disappear. */
  private readonly pendingAutopilotDeletes = new Map<string, number>()
  /** Intune records being deleted: id → when they disappear. */
  private readonly pendingIntuneDeletes = new Map<string, number>()
  private readonly callLog: RecordedCall[] = []
  private readonly requestLog: RequestLogEntry[] = []
  private readonly meta: SimulatorData['meta']

  constructor(
    data: SimulatorData,
    private readonly opts: StateOptions,
  ) {
    this.collections = {
      managedDevices: new Collection(data.managedDevices ?? []),
      devices: new Collection(data.devices ?? []),
      windowsAutopilotDeviceIdentities: new Collection(data.windowsAutopilotDeviceIdentities ?? []),
      machines: new Collection(data.machines ?? []),
      teamworkDevices: new Collection(data.teamworkDevices ?? []),
    }
    this.bitlockerRecoveryKeys = new Collection(data.bitlockerRecoveryKeys ?? [])
    this.meta = data.meta ? structuredClone(data.meta) : undefined
  }

  now(): number {
    return this.opts.clock()
  }

  /** Applies every asynchronous effect whose time has come. */
  settle(): void {
    const now = this.now()
    for (const [id, dueAt] of this.pendingIntuneDeletes) {
      if (dueAt <= now) {
        this.collections.managedDevices.remove(id)
        this.pendingIntuneDeletes.delete(id)
      }
    }
    for (const [id, dueAt] of this.pendingAutopilotDeletes) {
      if (dueAt <= now) {
        this.collections.windowsAutopilotDeviceIdentities.remove(id)
        this.pendingAutopilotDeletes.delete(id)
      }
    }
    for (let i = 0; i < this.pendingActions.length; ) {
      const p = this.pendingActions[i]!
      if (p.dueAt > now) {
        i++
        continue
      }
      const fails = this.opts.failingMachines?.has(p.action.machineId.toLowerCase()) ?? false
      p.action.status = fails ? 'Failed' : 'Succeeded'
      p.action.lastUpdateDateTimeUtc = new Date(p.dueAt).toISOString()
      const machine = this.collections.machines.get(p.action.machineId)
      if (machine && !fails) {
        machine.onboardingStatus = 'Offboarded'
        machine.healthStatus = 'Inactive'
      }
      this.pendingActions.splice(i, 1)
    }
  }

  /** Deletes a managed device; with a delay it stays listed as `deletePending` until the delay has passed. */
  deleteManagedDevice(id: string): void {
    const delay = this.opts.intuneDeleteDelayMs ?? 0
    if (delay <= 0) {
      this.collections.managedDevices.remove(id)
      return
    }
    const rec = this.collections.managedDevices.get(id)
    if (rec) rec.managementState = 'deletePending'
    if (!this.pendingIntuneDeletes.has(id.toLowerCase()))
      this.pendingIntuneDeletes.set(id.toLowerCase(), this.now() + delay)
  }

  /** Starts deregistering an Autopilot identity (reference §6.3: "deregistration is asynchronous"). */
  deleteAutopilot(id: string): void {
    if (this.opts.autopilotDeleteDelayMs <= 0) {
      this.collections.windowsAutopilotDeviceIdentities.remove(id)
      return
    }
    if (!this.pendingAutopilotDeletes.has(id.toLowerCase()))
      this.pendingAutopilotDeletes.set(id.toLowerCase(), this.now() + this.opts.autopilotDeleteDelayMs)
  }

  get autopilotDeleteIsAsync(): boolean {
    return this.opts.autopilotDeleteDelayMs > 0
  }

  addMachineAction(action: MachineAction): void {
    this.machineActions.push(action)
    this.pendingActions.push({ action, dueAt: this.now() + this.opts.machineActionDelayMs })
    this.settle()
  }

  recordCall(call: Omit<RecordedCall, 'seq' | 'at'>): void {
    this.callLog.push({ seq: this.callLog.length + 1, at: new Date(this.now()).toISOString(), ...call })
  }

  recordRequest(entry: RequestLogEntry): void {
    this.requestLog.push(entry)
  }

  calls(): RecordedCall[] {
    return structuredClone(this.callLog)
  }

  requests(): RequestLogEntry[] {
    return this.requestLog.map((r) => ({ ...r }))
  }

  snapshot(): SimulatorData {
    this.settle()
    const copy = (name: CollectionName): object[] => structuredClone(this.collections[name].all())
    return {
      managedDevices: copy('managedDevices'),
      devices: copy('devices'),
      windowsAutopilotDeviceIdentities: copy('windowsAutopilotDeviceIdentities'),
      machines: copy('machines'),
      teamworkDevices: copy('teamworkDevices'),
      ...(this.bitlockerRecoveryKeys.size
        ? { bitlockerRecoveryKeys: structuredClone(this.bitlockerRecoveryKeys.all()) }
        : {}),
      ...(this.meta ? { meta: structuredClone(this.meta) } : {}),
    }
  }
}
