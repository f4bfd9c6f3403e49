/**
 * @module Defender offboard: `POST /api/machines/{id}/offboard` with `{ "Comment": … }` (reference §4.4), an opt-in
 * operation. It goes through the Defender client, whose rate limiter already holds the per-app 100/min and 1,500/h.
 * The answer is a MachineAction; its id is kept in `after` so the admin can follow it (reference §4.5).
 */
import type { ApiClient } from '../lib/graph-client.js'
import { itemErrorText } from './graph-batch.js'
import type { HandlerContext, Observation, OperationHandler, StepOutcome } from './handler.js'

const READ_PERMISSION = 'Machine.Read.All'
const OFFBOARD_PERMISSION = 'Machine.Offboard'
/** Answers that describe the target, not a broken call: the handler turns them into outcomes. */
const ANSWERS = [400, 403, 404]
/** An offboard in one of these states was already asked for: a second POST would be refused ("already in progress"). */
const ASKED = new Set(['Pending', 'InProgress', 'Succeeded'])

/** What the admin does where the API refuses: macOS, Linux, iOS and Android are offboarded on the device. */
export const MANUAL_OFFBOARD =
  'offboard it on the device with the offboarding package for its platform (Microsoft Defender portal → Settings → Endpoints → Offboarding).'

const machinePath = (id: string) => `/api/machines/${encodeURIComponent(id)}`

function clientOf(ctx: HandlerContext): ApiClient | string {
  return ctx.defender ?? 'no Defender for Endpoint client is configured for this act.'
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err))

export function defenderOffboardHandler(opts: { comment?: string } = {}): OperationHandler {
  const comment = opts.comment ?? 'Offboarded by offboard: the device is stale or duplicate.'
  return {
    system: 'defender',
    operation: 'offboard',
    describe: (t) => ({
      call: `POST ${machinePath(t.target)}/offboard`,
      change: 'the machine stops reporting to Defender for Endpoint (cannot be undone by offboard)',
    }),
    async verify(ctx, targets) {
      const out = new Map<number, Observation>()
      const client = clientOf(ctx)
      for (const t of targets) {
        if (typeof client === 'string') {
          out.set(t.stepId, { kind: 'error', reason: client })
          continue
        }
        try {
          const m = await client.request<Record<string, unknown>>('GET', machinePath(t.target), {
            source: 'defender',
            permission: READ_PERMISSION,
            accept: ANSWERS,
          })
          if (m.status === 404) {
            out.set(t.stepId, { kind: 'gone' })
            continue
          }
          if (m.status !== 200) {
            out.set(t.stepId, {
              kind: 'error',
              reason: `reading the machine failed: HTTP ${m.status}${itemErrorText(m.body)}`,
            })
            continue
          }
          const filter = `machineId eq '${t.target}' and type eq 'Offboard'`
          const actions = await client.request<{ value?: { id: string; status: string }[] }>(
            'GET',
            `/api/machineactions?$filter=${encodeURIComponent(filter)}`,
            { source: 'defender', permission: READ_PERMISSION },
          )
          const asked = (actions.body?.value ?? []).find((a) => ASKED.has(a.status))
          const state = {
            osPlatform: m.body.osPlatform ?? null,
            onboardingStatus: m.body.onboardingStatus ?? null,
            ...(asked ? { machineActionId: asked.id, machineActionStatus: asked.status } : {}),
          }
          out.set(t.stepId, {
            kind: 'present',
            state,
            alreadyApplied: asked !== undefined || state.onboardingStatus === 'Offboarded',
          })
        } catch (err) {
          out.set(t.stepId, { kind: 'error', reason: `reading the machine failed: ${errorText(err)}` })
        }
      }
      return out
    },
    async execute(ctx, targets) {
      const out = new Map<number, StepOutcome>()
      const client = clientOf(ctx)
      for (const t of targets) {
        if (typeof client === 'string') {
          out.set(t.stepId, { kind: 'failed', reason: client, status: null })
          continue
        }
        try {
          const r = await client.request<Record<string, unknown> | null>(
            'POST',
            `${machinePath(t.target)}/offboard`,
            {
              source: 'defender',
              permission: OFFBOARD_PERMISSION,
              body: { Comment: comment },
              accept: ANSWERS,
            },
          )
          const detail = itemErrorText(r.body)
          const code = (r.body as { error?: { code?: unknown } } | null)?.error?.code
          if (r.status >= 200 && r.status < 300)
            out.set(t.stepId, {
              kind: 'done',
              after: {
                ...t.before,
                machineActionId: r.body?.id ?? null,
                machineActionStatus: r.body?.status ?? null,
              },
            })
          else if (r.status === 404) out.set(t.stepId, { kind: 'gone' })
          else if (code === 'OsPlatformNotSupported')
            out.set(t.stepId, {
              kind: 'failed',
              reason: `the API cannot offboard a ${String(t.before.osPlatform ?? 'non-Windows')} machine${detail}; ${MANUAL_OFFBOARD}`,
              status: r.status,
            })
          else if (r.status === 403)
            out.set(t.stepId, {
              kind: 'failed',
              reason: `403 Forbidden${detail}: the application needs ${OFFBOARD_PERMISSION} (admin consent).`,
              status: 403,
            })
          else out.set(t.stepId, { kind: 'failed', reason: `HTTP ${r.status}${detail}`, status: r.status })
        } catch (err) {
          out.set(t.stepId, { kind: 'failed', reason: errorText(err), status: null })
        }
      }
      return out
    },
  }
}
