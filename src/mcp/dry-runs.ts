/**
 * @module The dry runs an MCP server has shown, so that a confirmed disable can only follow one: a confirmation
 * must present the id of a dry run of the same selection, by the same user, for the same tenant, taken from the
 * same completed run, not expired and not used before. Ids are random and live only in this server's memory: a
 * client cannot make one up, and a restarted server knows none.
 */
import { randomUUID } from 'node:crypto'
import { UsageError } from '../lib/errors.js'

/** Long enough to read a dry run and ask a person; short enough that the tenant has not moved on meanwhile. */
export const DRY_RUN_TTL_MS = 15 * 60_000
/** A client looping over dry runs must not grow the server without bound; the oldest are forgotten first. */
export const MAX_OPEN_DRY_RUNS = 100

export interface DryRunRecord {
  tenantId: string
  actor: string
  /** The completed run whose suggestions the dry run showed. */
  runId: string
  /** Canonical text of what the caller selected (suggestion ids, category or all) and the caps. */
  selection: string
  /** The suggestions whose steps offboard would run: the confirmed act is limited to exactly these. */
  suggestionIds: string[]
  /** `system:operation:target` of every step the dry run showed, sorted: the plan the confirmation must match. */
  steps: string[]
}

interface Entry extends DryRunRecord {
  expiresAt: number
}

export class DryRunLedger {
  private readonly open = new Map<string, Entry>()

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = DRY_RUN_TTL_MS,
  ) {}

  /** Records a dry run; returns its id and when it expires. */
  issue(record: DryRunRecord): { dryRunId: string; expiresAt: Date } {
    this.forgetExpired()
    while (this.open.size >= MAX_OPEN_DRY_RUNS) this.open.delete(this.open.keys().next().value as string)
    const dryRunId = randomUUID()
    const expiresAt = this.now() + this.ttlMs
    this.open.set(dryRunId, { ...record, expiresAt })
    return { dryRunId, expiresAt: new Date(expiresAt) }
  }

  /**
   * Takes a dry run for a confirmation. Single use: whatever the outcome, the id cannot be presented again.
   * @throws UsageError when the id is unknown, expired, or was for another user, tenant or selection.
   */
  take(dryRunId: string, expect: Pick<DryRunRecord, 'tenantId' | 'actor' | 'selection'>): DryRunRecord {
    const entry = this.open.get(dryRunId)
    this.open.delete(dryRunId)
    const again =
      'Call disable_devices without confirm for a new dry run, check it, then confirm with its dryRunId.'
    if (!entry)
      throw new UsageError(
        `no open dry run has the id "${dryRunId}": dry runs are single-use and known only to the server that showed them.`,
        again,
      )
    if (entry.expiresAt <= this.now())
      throw new UsageError(
        `dry run ${dryRunId} expired (they are valid for ${Math.round(this.ttlMs / 60_000)} minutes).`,
        again,
      )
    if (entry.tenantId !== expect.tenantId || entry.actor !== expect.actor)
      throw new UsageError(`dry run ${dryRunId} was for another tenant or user.`, again)
    if (entry.selection !== expect.selection)
      throw new UsageError(
        `dry run ${dryRunId} was for another selection (${entry.selection}), not ${expect.selection}; a confirmation must repeat the selection of its dry run.`,
        again,
      )
    const { expiresAt: _, ...shown } = entry
    return shown
  }

  private forgetExpired(): void {
    const now = this.now()
    for (const [id, e] of this.open) if (e.expiresAt <= now) this.open.delete(id)
  }
}
