/**
 * @module Defender offboard: `POST /api/machines/{id}/offboard` with `{ "Comment": … }` (reference §4.4), an opt-in
 * operation, followed until its MachineAction ends (§4.5). Every call goes through the Defender client, whose rate
 * limiter holds the per-app 100/min and 1,500/h — so calls are spent sparingly: one read per machine, one listing
 * of recent Offboard actions per batch, one POST, and one listing per follow-up round for the whole act.
 */
import { type ApiClient, errorText, UncertainOutcomeError } from '../lib/graph-client.js'
import {
  type FollowResult,
  type HandlerContext,
  type Observation,
  type OperationHandler,
  pollWithin,
  type StepOutcome,
} from './handler.js'

const READ_PERMISSION = 'Machine.Read.All'
const OFFBOARD_PERMISSION = 'Machine.Offboard'
/** Answers that describe the target, not a broken call: the handler turns them into outcomes. */
const ANSWERS = [400, 403, 404]
/** An offboard in one of these states was already asked for: a second POST would be refused ("already in progress"). */
const ASKED = new Set(['Pending', 'InProgress', 'Succeeded'])
/** MachineAction states that end it (reference §4.5). */
const ENDED = new Set(['Succeeded', 'Failed', 'TimeOut', 'Cancelled'])
/** Reference §4.5: at most 10,000 MachineActions per page. */
const ACTIONS_TOP = 10_000
/** How far back an earlier offboard request is looked for. */
const LOOKBACK_MS = 30 * 86_400_000
/** Windows 10 1703 is build 15063: older builds cannot be offboarded through the API (reference §4.4). */
const MIN_WINDOWS10_BUILD = 15_063

/** What the admin does where the API refuses: macOS, Linux, iOS and Android are offboarded on the device. */
export const MANUAL_OFFBOARD =
  'offboard it on the device with the offboarding package for its platform (Microsoft Defender portal → Settings → Endpoints → Offboarding).'

const machinePath = (id: string) => `/api/machines/${encodeURIComponent(id)}`

export interface DefenderOffboardOptions {
  comment?: string
  /** How long an act follows its MachineActions before reporting them still pending (default 10 minutes). */
  followMs?: number
  /** Pause between follow-up rounds (default 30 s: each round is a call against 100/min). */
  pollMs?: number
}

interface MachineActionView {
  id: string
  status: string
  machineId?: string
  creationDateTimeUtc?: string
}

/**
 * Reference §4.4: Windows 11, Windows 10 from 1703, Windows Server 2012 R2 and later (2012 R2/2016 with the unified
 * agent). Anything else — macOS, Linux, iOS, Android — is offboarded on the device.
 */
export function offboardSupported(state: Record<string, unknown>): boolean {
  const platform = typeof state.osPlatform === 'string' ? state.osPlatform : ''
  if (/^Windows11$/i.test(platform)) return true
  if (/^Windows10$/i.test(platform)) {
    const build = Number(state.osBuild)
    return !Number.isFinite(build) || build === 0 || build >= MIN_WINDOWS10_BUILD
  }
  return /^WindowsServer(2012R2|2016|2019|2022|2025)$/i.test(platform)
}

function clientOf(ctx: HandlerContext): ApiClient | string {
  return ctx.defender ?? 'no Defender for Endpoint client is configured for this act.'
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** Offboard MachineActions created since `since`, every page. */
async function listOffboardActions(client: ApiClient, since: number): Promise<MachineActionView[]> {
  const filter = `type eq 'Offboard' and creationDateTimeUtc ge ${new Date(since).toISOString()}`
  const out: MachineActionView[] = []
  for await (const page of client.pages<MachineActionView>(
    `/api/machineactions?$filter=${encodeURIComponent(filter)}`,
    { source: 'defender', permission: READ_PERMISSION, top: ACTIONS_TOP },
  ))
    out.push(...page.items)
  return out
}

/**
 * The machines with these ids in one call (`$filter=id eq … or id eq …`), to spare the rate limit; null when the
 * API refuses the filter (it documents `id` as filterable, not `or` lists), and each machine is then read on its own.
 */
async function listMachines(
  client: ApiClient,
  ids: readonly string[],
): Promise<Map<string, Record<string, unknown>> | null> {
  if (ids.length < 2) return null
  const filter = ids.map((id) => `id eq '${id.replace(/'/g, "''")}'`).join(' or ')
  const res = await client.request<{ value?: Record<string, unknown>[] }>(
    'GET',
    `/api/machines?$filter=${encodeURIComponent(filter)}`,
    { source: 'defender', permission: READ_PERMISSION, accept: [400] },
  )
  if (res.status !== 200 || !Array.isArray(res.body?.value)) return null
  return new Map(res.body.value.map((m) => [String(m.id).toLowerCase(), m]))
}

export function defenderOffboardHandler(opts: DefenderOffboardOptions = {}): OperationHandler {
  const comment = opts.comment ?? 'Offboarded by offboard: the device is stale or duplicate.'
  const followMs = opts.followMs ?? 10 * 60_000
  const pollMs = opts.pollMs ?? 30_000
  return {
    system: 'defender',
    operation: 'offboard',
    describe: (t, current) => ({
      call: `POST ${machinePath(t.target)}/offboard`,
      change: 'the sensor stops reporting to Defender for Endpoint (cannot be undone by offboard)',
      ...(current && !offboardSupported(current)
        ? {
            warning: `the API cannot offboard a ${String(current.osPlatform ?? 'non-Windows')} machine; ${MANUAL_OFFBOARD}`,
          }
        : {}),
    }),
    async verify(ctx, targets) {
      const out = new Map<number, Observation>()
      const client = clientOf(ctx)
      if (typeof client === 'string') {
        for (const t of targets) out.set(t.stepId, { kind: 'error', reason: client })
        return out
      }
      const now = (ctx.now ?? Date.now)()
      let asked: MachineActionView[]
      try {
        asked = await listOffboardActions(client, now - LOOKBACK_MS)
      } catch (err) {
        for (const t of targets)
          out.set(t.stepId, { kind: 'error', reason: `listing Offboard actions failed: ${message(err)}` })
        return out
      }
      const listed = await listMachines(
        client,
        targets.map((t) => t.target),
      )
      for (const t of targets) {
        try {
          const m = listed
            ? listed.has(t.target.toLowerCase())
              ? { status: 200, body: listed.get(t.target.toLowerCase())! }
              : { status: 404, body: {} }
            : await client.request<Record<string, unknown>>('GET', machinePath(t.target), {
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
              reason: `reading the machine failed: HTTP ${m.status}${errorText(m.body)}`,
            })
            continue
          }
          const id = String(m.body.id ?? t.target).toLowerCase()
          const mine = asked.find((a) => a.machineId?.toLowerCase() === id && ASKED.has(a.status))
          const state = {
            osPlatform: m.body.osPlatform ?? null,
            osBuild: m.body.osBuild ?? null,
            onboardingStatus: m.body.onboardingStatus ?? null,
            ...(mine ? { machineActionId: mine.id, machineActionStatus: mine.status } : {}),
          }
          out.set(t.stepId, {
            kind: 'present',
            state,
            alreadyApplied: mine !== undefined || state.onboardingStatus === 'Offboarded',
          })
        } catch (err) {
          out.set(t.stepId, { kind: 'error', reason: `reading the machine failed: ${message(err)}` })
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
        if (!offboardSupported(t.before)) {
          out.set(t.stepId, {
            kind: 'failed',
            reason: `the API cannot offboard a ${String(t.before.osPlatform ?? 'non-Windows')} machine; ${MANUAL_OFFBOARD}`,
            status: null,
          })
          continue
        }
        let r: { status: number; body: Record<string, unknown> | null }
        try {
          r = await client.request<Record<string, unknown> | null>(
            'POST',
            `${machinePath(t.target)}/offboard`,
            {
              source: 'defender',
              permission: OFFBOARD_PERMISSION,
              body: { Comment: comment },
              accept: ANSWERS,
              once: true,
            },
          )
        } catch (err) {
          // The POST may have reached Defender: stop the act so --resume re-reads instead of asking twice.
          if (err instanceof UncertainOutcomeError) throw err
          out.set(t.stepId, { kind: 'failed', reason: message(err), status: null })
          continue
        }
        const detail = errorText(r.body)
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
      }
      return out
    },
    async follow(ctx, steps) {
      const out = new Map<number, FollowResult>()
      const client = clientOf(ctx)
      const open = steps.filter(
        (s) => typeof s.after.machineActionId === 'string' && !ENDED.has(String(s.after.machineActionStatus)),
      )
      if (open.length === 0 || typeof client === 'string') return out
      // Offboard actions are listed from well before the oldest one this act follows.
      const since = (ctx.now ?? Date.now)() - LOOKBACK_MS
      let waiting = open
      const ended = await pollWithin(ctx, followMs, pollMs, async () => {
        const byId = new Map((await listOffboardActions(client, since)).map((a) => [a.id.toLowerCase(), a]))
        const still: typeof waiting = []
        for (const s of waiting) {
          const seen = byId.get(String(s.after.machineActionId).toLowerCase())
          const status = seen?.status ?? String(s.after.machineActionStatus ?? 'Pending')
          const after = { ...s.after, machineActionStatus: status }
          if (status === 'Succeeded') out.set(s.stepId, { kind: 'succeeded', after })
          else if (ENDED.has(status))
            out.set(s.stepId, {
              kind: 'failed',
              after,
              reason: `Defender's Offboard action ${String(s.after.machineActionId)} ended ${status}; check it in the Defender portal (Action center) and offboard the device again.`,
            })
          else still.push({ ...s, after })
        }
        waiting = still
        return waiting.length === 0
      })
      if (!ended)
        for (const s of waiting)
          out.set(s.stepId, {
            kind: 'pending',
            after: s.after,
            reason: `Defender's Offboard action ${String(s.after.machineActionId)} was still ${String(s.after.machineActionStatus)} after ${Math.round(followMs / 60_000)} min; Defender finishes it on its own — check the Action center.`,
          })
      return out
    },
  }
}
