/** @module The time source of every service: injected so that the 90-day rule and schedules are testable. */

export type Clock = () => Date
export const systemClock: Clock = () => new Date()
