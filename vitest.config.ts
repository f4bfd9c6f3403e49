/** @module Vitest configuration: tests live beside the code (src) and end-to-end suites under test/. */
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The end-to-end tests spawn the built CLI; 2-core CI machines need headroom.
    testTimeout: 30_000,
    pool: 'forks',
  },
})
