/** @module The explicit list of built-in rules (a rule that is not listed here does not run). */
import autopilotLeftover from './autopilot-leftover.js'
import defenderOrphan from './defender-orphan.js'
import defenderSilentWhileActive from './defender-silent-while-active.js'
import entraLinkBroken from './entra-link-broken.js'
import intuneSilentWhileActive from './intune-silent-while-active.js'
import removedFromIntune from './removed-from-intune.js'
import type { RuleDefinition } from './rule.js'
import staleEverywhere from './stale-everywhere.js'
import supersededDefenderMachine from './superseded-defender-machine.js'
import supersededEntraObject from './superseded-entra-object.js'
import supersededIntuneRecord from './superseded-intune-record.js'
import unmanagedButActive from './unmanaged-but-active.js'

export const RULES: readonly RuleDefinition[] = [
  removedFromIntune,
  staleEverywhere,
  defenderOrphan,
  autopilotLeftover,
  supersededIntuneRecord,
  supersededEntraObject,
  supersededDefenderMachine,
  unmanagedButActive,
  intuneSilentWhileActive,
  defenderSilentWhileActive,
  entraLinkBroken,
]
