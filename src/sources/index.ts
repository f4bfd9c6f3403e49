/** @module The explicit registry of sources, in plan order. */
import autopilot from './autopilot/index.js'
import defender from './defender/index.js'
import entra from './entra/index.js'
import intune from './intune/index.js'

export const SOURCES = { intune, entra, autopilot, defender } as const
export type Sources = typeof SOURCES
