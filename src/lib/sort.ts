/**
 * @module Sorting large arrays of objects by a number computed once per item. Comparing the items themselves meant
 * a cache miss per comparison at a million devices (they are spread over a heap of gigabytes); the numbers sit in
 * one array and decide almost every comparison.
 */

/** Positions 0..n-1 sorted by `rank`, then by `tie`, then by position: what a stable sort on (rank, tie) gives. */
export function sortedOrder(rank: Float64Array, tie: (a: number, b: number) => number): number[] {
  const order = new Array<number>(rank.length)
  for (let i = 0; i < rank.length; i++) order[i] = i
  order.sort((a, b) => rank[a]! - rank[b]! || tie(a, b) || a - b)
  return order
}

/**
 * Sorts `items` in place by `rank(item, position)`, then by `tie` (given input positions), then by input position:
 * what a stable sort comparing rank, then `tie`, gives.
 */
export function sortByRank<T>(
  items: T[],
  rank: (item: T, position: number) => number,
  tie: (a: number, b: number) => number,
): void {
  const ranks = new Float64Array(items.length)
  for (let i = 0; i < items.length; i++) ranks[i] = rank(items[i]!, i)
  const order = sortedOrder(ranks, tie)
  const copy = items.slice()
  for (let i = 0; i < items.length; i++) items[i] = copy[order[i]!]!
}
