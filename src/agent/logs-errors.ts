/** @module The error of a failed audit-log verification, apart from the database code so that commands load it cheaply. */
import { OffboardError } from '../lib/errors.js'
import type { VerifyResult } from './audit.js'

/** `logs --verify` found a break in the chain. */
export class AuditTamperedError extends OffboardError {
  constructor(readonly result: Extract<VerifyResult, { ok: false }>) {
    super(
      `the audit log fails verification at entry ${result.seq} (${result.problem}): ${result.message}`,
      'Entries after the break cannot be trusted. Compare with a backup or an exported copy of the log.',
    )
  }
}
