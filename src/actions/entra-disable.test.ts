/**
 * @module The Entra disable handler's reading of per-item batch answers (404 is "already gone", 403 names the role or
 * permission for the sign-in kind), and its dry-run warning.
 */
import { describe, expect, it } from 'vitest'
import type { ApiClient } from '../lib/graph-client.js'
import { entraDisableHandler } from './entra-disable.js'

/** A Graph client whose every `$batch` answers each item with the given status. */
function answering(status: number, body: unknown = null): ApiClient {
  const client = {
    async request(_method: string, _path: string, opts: { body?: unknown }) {
      const requests = (opts.body as { requests: { id: string }[] }).requests
      return {
        status: 200,
        headers: new Headers(),
        body: { responses: requests.map((r) => ({ id: r.id, status, headers: {}, body })) },
      }
    },
  }
  return client as unknown as ApiClient
}

const target = { stepId: 7, target: 'e1', targetName: 'PC-1' }

describe('entra disable handler', () => {
  it('a 404 on the PATCH means the object is already gone', async () => {
    const out = await entraDisableHandler().execute({ graph: answering(404) }, [{ ...target, before: {} }])
    expect(out.get(7)).toEqual({ kind: 'gone' })
  })

  it('a 403 on a macOS object names the delegated roles and device-code sign-in', async () => {
    const body = { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges.' } }
    const out = await entraDisableHandler().execute({ graph: answering(403, body) }, [
      { ...target, before: { operatingSystem: 'MacMDM', accountEnabled: true } },
    ])
    const failed = out.get(7)
    expect(failed?.kind).toBe('failed')
    expect(failed?.kind === 'failed' && failed.reason).toMatch(
      /MacMDM device objects cannot be disabled with app-only permissions.*Cloud Device Administrator or Intune Administrator.*OFFBOARD_AUTH=deviceCode/,
    )
  })

  it('under a delegated sign-in a 403 says the signed-in user lacks the role, not to sign in as a user', async () => {
    const out = await entraDisableHandler().execute({ graph: answering(403), delegated: true }, [
      { ...target, before: { operatingSystem: 'Linux', accountEnabled: true } },
    ])
    const failed = out.get(7)
    const reason = failed?.kind === 'failed' ? failed.reason : ''
    expect(reason).toMatch(/signed-in user may not enable or disable device objects/)
    expect(reason).toContain('Cloud Device Administrator or Intune Administrator')
    expect(reason).not.toMatch(/app-only|OFFBOARD_AUTH/)
  })

  it('the dry run warns about non-Windows objects only for an app-only sign-in', () => {
    const h = entraDisableHandler()
    const ios = { operatingSystem: 'iOS', accountEnabled: true }
    expect(h.describe(target, ios).warning).toMatch(/app-only sign-in would be refused/)
    expect(h.describe(target, ios, { delegated: false }).warning).toMatch(/app-only/)
    expect(h.describe(target, ios, { delegated: true }).warning).toBeUndefined()
    expect(h.describe(target, { operatingSystem: 'Windows' }).warning).toBeUndefined()
  })

  it('a 403 on a Windows object names the application permission', async () => {
    const out = await entraDisableHandler().execute({ graph: answering(403) }, [
      { ...target, before: { operatingSystem: 'Windows' } },
    ])
    const failed = out.get(7)
    expect(failed?.kind === 'failed' && failed.reason).toContain('Device.ReadWrite.All')
  })

  it('an item left out of the batch answer fails with a way to retry it', async () => {
    const graph = {
      request: async () => ({ status: 200, headers: new Headers(), body: { responses: [] } }),
    } as unknown as ApiClient
    const out = await entraDisableHandler().execute({ graph }, [{ ...target, before: {} }])
    expect(out.get(7)).toMatchObject({ kind: 'failed', status: null })
  })
})
