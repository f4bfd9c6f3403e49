/** @module How one batch answer becomes a step outcome: done, gone, the permission to grant, or held for approval. */
import { describe, expect, it } from 'vitest'
import { writeOutcome } from './graph-batch.js'

const forbidden = (detail: string) => `403${detail}: grant X`

describe('writeOutcome', () => {
  it('reads 2xx as done, 404 as gone, 403 with the permission, an unanswered item as unknown', () => {
    expect(writeOutcome({ status: 204, body: null }, { a: 1 }, forbidden)).toEqual({
      kind: 'done',
      after: { a: 1 },
    })
    expect(writeOutcome({ status: 404, body: null }, {}, forbidden)).toEqual({ kind: 'gone' })
    const denied = writeOutcome(
      { status: 403, body: { error: { code: 'Forbidden', message: 'no' } } },
      {},
      forbidden,
    )
    expect(denied).toMatchObject({ kind: 'failed', status: 403 })
    expect(denied.kind === 'failed' && denied.reason).toContain('grant X')
    const lost = writeOutcome({ status: 0, body: null }, {}, forbidden)
    expect(lost.kind === 'failed' && lost.reason).toContain('--resume')
  })

  it('says when Intune holds an operation for Multiple Administrative Approval, on a refusal or an accepted-for-approval answer', () => {
    for (const answer of [
      {
        status: 403,
        body: {
          error: { code: 'Forbidden', message: 'This operation requires approval from another admin.' },
        },
      },
      { status: 202, body: { operationApprovalRequest: { id: 'r1', status: 'needsApproval' } } },
    ]) {
      const out = writeOutcome(answer, {}, forbidden)
      expect(out.kind).toBe('failed')
      expect(out.kind === 'failed' && out.reason).toContain('Multiple Administrative Approval')
      expect(out.kind === 'failed' && out.reason).toContain('Multi Admin Approval')
    }
    // A plain success is not mistaken for one.
    expect(writeOutcome({ status: 204, body: null }, {}, forbidden).kind).toBe('done')
  })
})
