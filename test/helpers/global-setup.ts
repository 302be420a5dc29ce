import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The newest modification time of any file under `dir` (0 when there is none). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * The end-to-end tests spawn bin/harn-agents.js, which loads dist/harn-agents.cjs: never let them test a build older than
 * the source. `npm test` builds first; a plain `npx vitest run` after an edit rebuilds here, and fails
 * with one clear line if the build does.
 */
export default function setup(): void {
  requirePostgres();
  const bundle = path.join(ROOT, 'dist/harn-agents.cjs');
  const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  const source = Math.max(newest(path.join(ROOT, 'src')), fs.statSync(path.join(ROOT, 'scripts/build.mjs')).mtimeMs);
  if (built >= source) return;
  process.stderr.write('[harn-agents] dist/ is older than src/: rebuilding before the tests (npm run build)\n');
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('dist/ is older than src/ and `npm run build` failed: the end-to-end tests would test a stale build');
}

/**
 * In CI (.ci/run sets HARN_REQUIRE_POSTGRES) the PostgreSQL suites must run: a missing URL or a server that
 * does not answer fails the whole run here, instead of letting every PostgreSQL test be skipped.
 */
function requirePostgres(): void {
  if (!process.env.HARN_REQUIRE_POSTGRES) return;
  const url = process.env.HARN_TEST_POSTGRES_URL;
  if (!url) throw new Error('HARN_REQUIRE_POSTGRES is set but HARN_TEST_POSTGRES_URL is not: the PostgreSQL suites would be skipped');
  const probe = spawnSync('psql', [url, '-Atc', 'select 1'], { encoding: 'utf8' });
  if (probe.status !== 0 || probe.stdout.trim() !== '1') {
    throw new Error(`HARN_REQUIRE_POSTGRES is set but PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} does not answer: ${(probe.stderr || probe.error?.message || '').trim()}`);
  }
}
