import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The real hook managers the hook tests run: husky and lefthook from the npm registry, installed once into
 * a cache under the temp directory (reused by later runs), and pre-commit from Debian (.ci/run installs it).
 * In CI (CI=true, or HARN_REQUIRE_HOOK_TOOLS set by .ci/run) a missing tool fails its suite; elsewhere the suite is skipped with one line.
 */

const required = process.env.CI === 'true' || Boolean(process.env.HARN_REQUIRE_HOOK_TOOLS);
export const HOOK_TOOLS_DIR = path.join(os.tmpdir(), 'harn-agents-hook-tools-v1');
const PACKAGES = ['husky@9', 'lefthook@2'];

function missing(what: string, fix: string): null {
  if (required) throw new Error(`${what} is not available and CI=true: ${fix}`);
  console.warn(`[harn-agents] ${what} is not available: its hook manager tests are skipped (${fix})`);
  return null;
}

/** node_modules/.bin with husky and lefthook, installed from the registry on first use; null when unreachable. */
export function npmHookTools(): string | null {
  const bin = path.join(HOOK_TOOLS_DIR, 'node_modules', '.bin');
  const ready = () => fs.existsSync(path.join(bin, 'husky')) && spawnSync(path.join(bin, 'lefthook'), ['version']).status === 0;
  if (ready()) return bin;
  fs.mkdirSync(HOOK_TOOLS_DIR, { recursive: true });
  fs.writeFileSync(path.join(HOOK_TOOLS_DIR, 'package.json'), '{"name":"harn-hook-tools","private":true}\n');
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--no-save', ...PACKAGES], {
    cwd: HOOK_TOOLS_DIR,
    encoding: 'utf8',
    timeout: 300_000,
    // The download may need the CA bundle vitest.config.ts keeps from the tests' processes.
    env: { ...process.env, ...(process.env.HARN_TEST_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.HARN_TEST_EXTRA_CA_CERTS } : {}) },
  });
  if (npm.status !== 0 || !ready()) return missing('husky and lefthook (npm registry)', `npm install ${PACKAGES.join(' ')} failed: ${(npm.stderr || '').trim().split('\n').pop() ?? ''}`);
  return bin;
}

/** Whether Debian's pre-commit runs here. */
export function preCommitTool(): boolean {
  if (spawnSync('pre-commit', ['--version']).status === 0) return true;
  return missing('pre-commit', 'apt-get install -y pre-commit') !== null;
}
