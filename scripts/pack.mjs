// Packs the package as it is published: `npm run pack [-- <destination>]` builds dist/, stages bin/, dist/,
// docs/, README.md and LICENSE with a package.json that has no scripts and no dependencies (everything the
// package runs is bundled in dist/), and runs `npm pack` there. It prints the tarball's path. Publish that
// tarball (`npm publish harn-agents-<version>.tgz`): the repository's own package.json is private, since its
// `prepare` script (which builds dist/ on `npm ci`) must never reach consumers.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const destination = path.resolve(process.argv[2] ?? root);
const run = (command, args, cwd) => {
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  return result.stdout;
};

// The test suite packs the dist/ it already built: rebuilding would delete it under the other tests' feet.
if (!process.env.HARN_PACK_NO_BUILD) run(process.execPath, ['scripts/build.mjs'], root);
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const { private: _private, scripts: _scripts, devDependencies: _dev, dependencies: _deps, ...manifest } = pkg;
const stage = mkdtempSync(path.join(os.tmpdir(), 'harn-agents-pack-'));
try {
  for (const entry of ['bin', 'dist', 'docs', 'README.md', 'LICENSE']) cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const name = run('npm', ['pack', '--silent', '--pack-destination', destination], stage).trim().split('\n').pop();
  console.log(path.join(destination, name));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
