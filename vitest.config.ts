import net from 'node:net';
import os from 'node:os';
import { defineConfig } from 'vitest/config';

// .ci/run sets HARN_VITEST_JSON to get a machine-readable report beside the usual output.
const jsonReport = process.env.HARN_VITEST_JSON;

/** The documented default server for the PostgreSQL suites (trust auth, database test). */
const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Whether something accepts connections on host:port within a second. */
const answers = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });

/**
 * Node reads the CA bundle NODE_EXTRA_CA_CERTS names at every start-up: about 40 ms of CPU per process, three
 * times the CLI's own start, paid by each of the thousands of processes the suite spawns though none of them
 * speaks TLS. The workers and everything they spawn go without it; the one download (husky and lefthook from
 * the npm registry, test/helpers/hook-tools.ts) gets it back from HARN_TEST_EXTRA_CA_CERTS.
 */
function dropExtraCaCerts(): void {
  const bundle = process.env.NODE_EXTRA_CA_CERTS;
  if (bundle === undefined) return;
  process.env.HARN_TEST_EXTRA_CA_CERTS = bundle;
  delete process.env.NODE_EXTRA_CA_CERTS;
}

export default defineConfig(async () => {
  dropExtraCaCerts();
  // Run the PostgreSQL suites whenever the default server answers; say so in one line when they are skipped.
  if (!process.env.HARN_TEST_POSTGRES_URL) {
    if (await answers('127.0.0.1', 5432)) process.env.HARN_TEST_POSTGRES_URL = DEFAULT_PG_URL;
    else console.warn(`[harn-agents] no PostgreSQL server at ${DEFAULT_PG_URL} (nor HARN_TEST_POSTGRES_URL): the PostgreSQL suites are skipped`);
  }
  return {
    test: {
      include: ['test/**/*.test.ts'],
      // End-to-end tests run the built CLI: rebuild a dist/ older than src/ first.
      globalSetup: ['test/helpers/global-setup.ts'],
      // Every temporary directory a test file makes is removed after it.
      setupFiles: ['test/helpers/cleanup.ts'],
      // Most end-to-end test time is spent waiting on child processes, git, PostgreSQL and the state lock's
      // stale period, not on the worker's own CPU: two workers a core keep the cores busy (on 2 cores, 3
      // workers ran the suite in 89 s and 4 in 71 s; 6 were slower again). No test depends on the pace.
      maxWorkers: Math.max(2, os.availableParallelism() * 2),
      // A worker runs file after file in one process, its modules loaded once: a fresh process and import of
      // src/ for each of ~85 files cost about a fifth of the suite's CPU (import 19 s summed, against 6 s
      // shared). The files keep no state between them: spies are restored where they are made, no test
      // changes process.env, every temporary directory is removed after its file (cleanup.ts), and the one
      // file that mocks a module re-imports what it tests (test/unit/one-validation.test.ts).
      isolate: false,
      // End-to-end tests spawn real processes; give them room on a 2-core machine.
      testTimeout: 60_000,
      hookTimeout: 60_000,
      reporters: jsonReport ? ['default', 'json'] : ['default'],
      outputFile: jsonReport ? { json: jsonReport } : undefined,
    },
  };
});
