import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';

// Start-up cost is mostly which of Node's own modules a call compiles (docs/performance.md). Timings do not
// belong in tests, but which modules a call loads is exact: quiet reads and a plain write must not pull in
// Node's streams (process.stdout/stderr), perf_hooks (the `performance` global), fs/promises, child_process
// or crypto.
const HEAVY = /^NativeModule (stream|internal\/streams\/|perf_hooks|internal\/perf\/|internal\/fs\/promises|child_process|crypto|net)/;

/** The built-in modules the CLI loaded for `args`, after Node's own start-up. */
function loadedModules(ws: string, args: string[]): { code: number | null; loaded: string[] } {
  const preload = path.join(ws, 'record-modules.cjs');
  fs.writeFileSync(
    preload,
    "const before = new Set(process.moduleLoadList); process.on('exit', () => require('node:fs').writeFileSync(process.env.HARN_TEST_MODULES_OUT, JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m)))));\n",
  );
  const out = path.join(ws, 'modules.json');
  const result = spawnSync(process.execPath, ['-r', preload, BIN, ...args], { cwd: ws, env: cleanEnv({ HARN_TEST_MODULES_OUT: out }) });
  return { code: result.status, loaded: JSON.parse(fs.readFileSync(out, 'utf8')) as string[] };
}

describe('start-up loads only what the call needs', () => {
  it('--version, holder, check, status --json and a lock load no stream, perf_hooks, fs/promises or child_process module', () => {
    const ws = tempDir();
    for (const [args, code] of [
      [['--version'], 0],
      [['holder', 'x'], 1],
      [['check', 'x'], 0],
      [['status', '--json'], 0],
      [['lock', 'x', '--agent', '1'], 0],
      [['holder', 'x'], 0],
    ] as const) {
      const { code: got, loaded } = loadedModules(ws, [...args]);
      expect({ args, code: got }).toEqual({ args, code });
      expect({ args, heavy: loaded.filter((m) => HEAVY.test(m)) }).toEqual({ args, heavy: [] });
    }
  });
});

describe('a PostgreSQL call pays only for what it does', () => {
  it('loads no fetch implementation (undici) and no dns: pg asks whether it runs in a Cloudflare Worker, the build says it does not', () => {
    const ws = tempDir();
    // A refused connection (port 1): the store is loaded and used, no server is needed.
    const { code, loaded } = loadedModules(ws, ['--store', 'postgres://nobody@127.0.0.1:1/none', '--namespace', 'x', 'holder', 'a']);
    expect(code).toBe(3);
    expect(loaded.some((m) => m.includes('internal/deps/undici'))).toBe(false);
    // Nor `dns`, which pg loads only for a native binding that is not there.
    expect(loaded.filter((m) => /^NativeModule dns$/.test(m))).toEqual([]);
    // The store was loaded, with pg: the checks above are not passing for want of loading it.
    expect(loaded.some((m) => /NativeModule net$/.test(m))).toBe(true);
  });

  it("compiles the bundle and its on-demand parts (the PostgreSQL client, the status table) with the build's code caches", () => {
    const probe = [
      `const b = require(${JSON.stringify(BIN)});`,
      'const main = b.compile();',
      `const dir = require('node:path').join(${JSON.stringify(path.dirname(BIN))}, '..', 'dist', 'lazy');`,
      "const parts = ['pg-store.cjs', 'status-table.cjs'].map((f) => { const file = require('node:path').join(dir, f); b.loadLazy(file); return [f, b.lazy.get(file).script.cachedDataRejected]; });",
      "console.log(JSON.stringify({ main: main.cachedDataRejected, parts: Object.fromEntries(parts) }));",
    ].join('\n');
    const result = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: cleanEnv({}) });
    expect(result.stderr).toBe('');
    // false: a cache was given and V8 took it (undefined would mean none was there).
    expect(JSON.parse(result.stdout)).toEqual({ main: false, parts: { 'pg-store.cjs': false, 'status-table.cjs': false } });
  });
});
