/** @module Reading and verifying the audit log through the permission check, for every entry point. */
import type { Store } from '../store/store.js'
import { type AuditEntry, type AuditQuery, readAudit, type VerifyResult, verifyAudit } from './audit.js'
import { authorize } from './roles.js'

export { AuditTamperedError } from './logs-errors.js'

export async function listAuditLog(store: Store, actor: string, q: AuditQuery = {}): Promise<AuditEntry[]> {
  await authorize(store, actor, 'view', { tenantId: q.tenantId ?? null })
  return readAudit(store.db, q)
}

export async function verifyAuditLog(store: Store, actor: string): Promise<VerifyResult> {
  await authorize(store, actor, 'view')
  return verifyAudit(store.db)
}
