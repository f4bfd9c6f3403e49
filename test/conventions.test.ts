/** @module Enforces the layout of STYLE.md: every rule registered, id = file name, metadata valid, a test beside each rule. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { rulesMarkdown } from '../src/cli/commands/rules.js'
import { RULES } from '../src/rules/index.js'
import { defineRule } from '../src/rules/rule.js'

const root = join(import.meta.dirname, '..')
const rulesDir = join(root, 'src/rules')
/** Files in src/rules that are framework, not rules. */
const FRAMEWORK = new Set(['rule.ts', 'index.ts', 'params.ts'])

const ruleFiles = readdirSync(rulesDir).filter(
  (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !FRAMEWORK.has(f),
)

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  )
}
const sourceFiles = walk(join(root, 'src')).filter((f) => f.endsWith('.ts'))

describe('rules', () => {
  it('registers every rule file in src/rules/index.ts, and nothing else', () => {
    expect(RULES.map((r) => `${r.id}.ts`).sort()).toEqual([...ruleFiles].sort())
  })

  it.each(RULES.map((r) => [r.id, r] as const))(
    '%s: its metadata passes defineRule validation again',
    (_id, rule) => {
      expect(() => defineRule(rule)).not.toThrow()
    },
  )

  it('has unique ids and aliases', () => {
    const ids = RULES.flatMap((r) => [r.id, ...(r.aliases ?? [])])
    expect(new Set(ids).size).toBe(ids.length)
  })

  it.each(ruleFiles)('%s has a test file beside it', (file) => {
    expect(existsSync(join(rulesDir, file.replace(/\.ts$/, '.test.ts')))).toBe(true)
  })

  it('docs/rules.md is generated from the current rule metadata', () => {
    expect(readFileSync(join(root, 'docs/rules.md'), 'utf8')).toBe(rulesMarkdown())
  })

  it('rejects a rule whose title is a "Check …" instruction', () => {
    const good = RULES[0]!
    expect(() => defineRule({ ...good, id: 'bad-title', title: 'Check devices that are stale' })).toThrow(
      /title/,
    )
  })
})

describe('layout', () => {
  it.each(sourceFiles.map((f) => [f.slice(root.length + 1)]))(
    '%s opens with a /** @module … */ comment',
    (file) => {
      const text = readFileSync(join(root, file), 'utf8')
      expect(text.trimStart().startsWith('/**')).toBe(true)
      expect(text.slice(0, 600)).toContain('@module')
    },
  )

  it('keeps raw API shapes inside src/sources: the engine never imports a source schema', () => {
    const offenders = sourceFiles
      .filter((f) => !f.includes('/src/sources/') && !f.endsWith('.test.ts'))
      .filter((f) => /from '.*sources\/[a-z]+\/schema\.js'/.test(readFileSync(f, 'utf8')))
    expect(offenders).toEqual([])
  })

  it('keeps rules pure: no I/O, no clock', () => {
    const offenders = ruleFiles.filter((f) => {
      const text = readFileSync(join(rulesDir, f), 'utf8')
      return /node:(fs|net|http|https|child_process)|Date\.now\(|new Date\(\)|fetch\(/.test(text)
    })
    expect(offenders).toEqual([])
  })

  it('has no relative import without a .js extension (ESM)', () => {
    const offenders = sourceFiles.filter((f) => /from '\.\.?\/[^']*(?<!\.js)'/.test(readFileSync(f, 'utf8')))
    expect(offenders).toEqual([])
  })
})
