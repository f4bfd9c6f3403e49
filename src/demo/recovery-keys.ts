/**
 * @module Demo BitLocker recovery keys for the simulator: one operating-system volume key per Windows device that is
 * Entra joined or hybrid joined (those back their keys up to Entra). Derived from the object id by hashing, so the
 * demo tenant's other records and their random streams stay exactly as they were.
 */
import { createHash } from 'node:crypto'

/** Graph v1.0 `bitlockerRecoveryKey`, with the `key` the simulator returns only on `$select=key`. */
export interface DemoRecoveryKey {
  id: string
  deviceId: string
  volumeType: 'operatingSystemVolume'
  createdDateTime: string
  key: string
}

/** Eight groups of six digits, each a multiple of 11 below 720,896, as real BitLocker recovery passwords are. */
function recoveryPassword(digest: Buffer): string {
  const groups: string[] = []
  for (let i = 0; i < 8; i++) groups.push(String(digest.readUInt16BE(i * 2) * 11).padStart(6, '0'))
  return groups.join('-')
}

function guidOf(digest: Buffer): string {
  const h = digest.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** Takes raw Entra `device` records (demo or a snapshot's export); records without the needed fields get no key. */
export function demoRecoveryKeys(devices: readonly object[]): DemoRecoveryKey[] {
  const out: DemoRecoveryKey[] = []
  for (const raw of devices) {
    const d = raw as Record<string, unknown>
    const id = text(d.id)
    const deviceId = text(d.deviceId)
    if (!id || !deviceId || !text(d.operatingSystem)?.toLowerCase().startsWith('windows')) continue
    if (d.trustType !== 'AzureAd' && d.trustType !== 'ServerAd') continue
    const digest = createHash('sha256').update(`bitlocker:${id}`).digest()
    out.push({
      id: guidOf(digest.subarray(16)),
      deviceId,
      volumeType: 'operatingSystemVolume',
      createdDateTime: text(d.registrationDateTime) ?? '2020-01-01T00:00:00Z',
      key: recoveryPassword(digest),
    })
  }
  return out
}
