/** @module Questions answered from the store, on every backend: the latest run, what changed since the previous one, and tasks. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { answerQuestion } from '../language/ask.js'
import type { Store } from '../store/store.js'
import { testBackends } from '../store/test-backends.js'
import { loadAskData } from './ask-source.js'
import { NotFoundError } from './errors.js'
import { completeRun, startRun } from './runs.js'
import { addTask, setTaskStatus } from './tasks.js'
import { type FakeSuggestion, fakeReport } from './test-fixtures.js'

const TENANT = 'contoso'
const ACTOR = 'alice'

async function runWith(store: Store, devices: readonly (number | FakeSuggestion)[]) {
  const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: ACTOR })
  return completeRun(store, run.id, fakeReport(TENANT, devices))
}

const ask = async (store: Store, q: string) => answerQuestion(q, await loadAskData(store, ACTOR, TENANT))

describe.each(testBackends())('ask from the store on $name', (backend) => {
  beforeAll(() => backend.setup(), 60_000)
  afterEach(() => backend.cleanup())
  afterAll(() => backend.teardown())

  it('says there is nothing to answer from before the first run', async () => {
    const store = await backend.create()
    await expect(loadAskData(store, ACTOR, TENANT)).rejects.toThrow(NotFoundError)
    await expect(loadAskData(store, ACTOR, TENANT)).rejects.toThrow(/no completed run/)
  })

  it('answers from the latest run and says the first run has nothing to compare with', async () => {
    const store = await backend.create()
    const run = await runWith(store, [1, 2, { device: 3, category: 'removedFromIntune' }])
    const a = await ask(store, 'Which devices are stale?')
    expect(a.basis).toMatchObject({ origin: 'store', runId: run.id, tenantId: TENANT })
    expect(a.devices.map((d) => d.name)).toEqual(['PC-1', 'PC-2'])
    const changes = await ask(store, 'What changed since the last run?')
    expect(changes.summary).toMatch(/first completed run/)
    const skipped = await ask(store, 'Which devices were skipped?')
    expect(skipped.notes.join(' ')).toMatch(/keeps only the counts/)
  })

  it('compares with the previous run and keeps suggestion lists of the latest two runs only', async () => {
    const store = await backend.create()
    const first = await runWith(store, [1, 2, 3])
    const second = await runWith(store, [
      2,
      { device: 3, id: 'sg-3-replanned', category: 'removedFromIntune' },
      4,
    ])
    const a = await ask(store, 'What changed since the last run?')
    expect(a.basis.previousRunId).toBe(first.id)
    const by = (c: string) => a.changes.filter((x) => x.change === c).map((x) => x.name)
    expect(by('new')).toEqual(['PC-4'])
    expect(by('resolved')).toEqual(['PC-1'])
    // Same device (same Entra object), new suggestion id and category: recategorised, not new + resolved.
    expect(by('recategorised')).toEqual(['PC-3'])

    await runWith(store, [4])
    const runs = await store.db
      .selectFrom('runs')
      .select(['id'])
      .where('tenant_id', '=', TENANT)
      .orderBy('ordinal')
      .execute()
    const listed = await store.db.selectFrom('run_suggestions').select(['run_id']).execute()
    // Only the latest two completed runs keep their list.
    expect(runs.map((r) => listed.filter((l) => l.run_id === r.id).length)).toEqual([0, 3, 1])
    expect(runs[1]!.id).toBe(second.id)
    const b = await ask(store, 'What changed since the last run?')
    expect(b.counts).toMatchObject({ new: 0, resolved: 2, recategorised: 0, now: 1, before: 3 })
  })

  it('answers tasks by status, and whether the latest run still flags their device', async () => {
    const store = await backend.create()
    await runWith(store, [1, 2, 3])
    const [s1, s2] = (await loadAskData(store, ACTOR, TENANT)).suggestions
    const t1 = await addTask(store, ACTOR, TENANT, s1!.id)
    await addTask(store, ACTOR, TENANT, s2!.id)
    await setTaskStatus(store, ACTOR, t1.id, 'inProgress')
    await runWith(store, [2, 3])

    const progress = await ask(store, 'Which tasks are in progress?')
    expect(progress.query).toBe('tasksByStatus')
    expect(progress.tasks.map((t) => [t.id, t.status, t.stillFlagged])).toEqual([
      [t1.id, 'inProgress', false],
    ])
    expect(progress.summary).toMatch(/^There is 1 in progress task/)
    const open = await ask(store, 'Show open tasks')
    expect(open.tasks).toHaveLength(2)
    const done = await ask(store, 'Which tasks are completed?')
    expect(done.tasks).toEqual([])
  })
})
