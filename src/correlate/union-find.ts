/** @module Disjoint sets over dense integer ids: near-linear joins for millions of records. */

export class UnionFind {
  private readonly parent: Int32Array
  private readonly rank: Uint8Array

  constructor(size: number) {
    this.parent = new Int32Array(size)
    this.rank = new Uint8Array(size)
    for (let i = 0; i < size; i++) this.parent[i] = i
  }

  get size(): number {
    return this.parent.length
  }

  find(x: number): number {
    let root = x
    while (this.parent[root] !== root) root = this.parent[root]!
    // Path compression keeps later finds O(α(n)).
    while (this.parent[x] !== root) {
      const next = this.parent[x]!
      this.parent[x] = root
      x = next
    }
    return root
  }

  union(a: number, b: number): void {
    const ra = this.find(a)
    const rb = this.find(b)
    if (ra === rb) return
    const rankA = this.rank[ra]!
    const rankB = this.rank[rb]!
    if (rankA < rankB) this.parent[ra] = rb
    else if (rankA > rankB) this.parent[rb] = ra
    else {
      this.parent[rb] = ra
      this.rank[ra] = rankA + 1
    }
  }
}
