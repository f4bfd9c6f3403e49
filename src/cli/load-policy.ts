/** @module Reads the admin's policy file (JSON) and validates it against the policy schema. */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { DEFAULT_POLICY, Policy } from '../domain/policy.js'
import { InputError } from '../lib/errors.js'
import { describeJsonError } from '../snapshot/read-collection.js'

/** @throws InputError naming the file and the offending field. */
export async function loadPolicy(path: string | undefined): Promise<Policy> {
  if (!path) return DEFAULT_POLICY
  const name = basename(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new InputError(name, [{ problem: `cannot read the policy file: ${(err as Error).message}` }])
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new InputError(name, [{ problem: describeJsonError(err, text) }])
  }
  const parsed = Policy.safeParse(doc)
  if (!parsed.success) {
    throw new InputError(
      name,
      parsed.error.issues
        .slice(0, 5)
        .map((i) => ({ field: i.path.join('.') || undefined, problem: i.message })),
      'See "Policy" in the README for the fields and their defaults.',
      parsed.error.issues.length,
    )
  }
  return parsed.data
}
