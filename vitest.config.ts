import { defineConfig } from 'vitest/config';

// .ci/run sets HARN_VITEST_JSON to get a machine-readable report beside the usual output.
const jsonReport = process.env.HARN_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn real processes; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    outputFile: jsonReport ? { json: jsonReport } : undefined,
  },
});
