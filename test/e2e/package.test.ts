import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, tempDir } from '../helpers/cli.js';

// The package as a user gets it: `npm run pack` (npm pack of the published layout), `npm install <tarball>`
// into a fresh project from the registry's point of view, then the binary and the library from there.

const ROOT = path.resolve(import.meta.dirname, '../..');
let project: string;
let installLog: string;

beforeAll(() => {
  const out = tempDir('harn-pack-');
  // dist/ is current (the global setup rebuilt it if older than src/); pack it as it is.
  const packed = spawnSync(process.execPath, [path.join(ROOT, 'scripts/pack.mjs'), out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, HARN_PACK_NO_BUILD: '1' } });
  expect(packed.status, packed.stderr).toBe(0);
  const tarball = packed.stdout.trim().split('\n').pop() ?? '';
  project = tempDir('harn-consumer-');
  fs.writeFileSync(path.join(project, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true,"type":"module"}\n');
  const installed = spawnSync('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: project, encoding: 'utf8', env: cleanEnv() });
  expect(installed.status, installed.stderr).toBe(0);
  installLog = installed.stdout + installed.stderr;
}, 300_000);

const inProject = (command: string, args: string[], input = '') =>
  spawnSync(command, args, { cwd: project, encoding: 'utf8', input, env: cleanEnv() });

describe('the packed package, installed from its tarball', () => {
  it('installs one package, with no install-time scripts, a LICENSE and no runtime dependencies', () => {
    expect(installLog).toMatch(/added 1 package/);
    expect(installLog).not.toMatch(/install-scripts|prepare/);
    const installed = path.join(project, 'node_modules/harn-agents');
    expect(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.scripts).toBeUndefined();
    expect(fs.readdirSync(path.join(project, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual(['harn-agents']);
  });

  it('runs the binary, the MCP server (bundled SDK) and the PostgreSQL store (bundled pg)', () => {
    const bin = path.join(project, 'node_modules/.bin/harn-agents');
    expect(inProject(bin, ['--version']).stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(inProject(bin, ['register', 'packed'])).toMatchObject({ status: 0, stdout: '1\n' });
    const requests = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    ];
    const mcp = inProject(bin, ['mcp'], requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
    expect(mcp.stdout).toMatch(/"name":"lock"/);
    const pg = inProject(bin, ['--store', 'postgres://postgres@127.0.0.1:1/none', 'status']);
    expect(pg.status).toBe(3);
    expect(pg.stderr).not.toMatch(/Cannot find (module|package)/);
  });

  it('imports as ESM and requires as CommonJS', () => {
    const esm = inProject(process.execPath, ['--input-type=module', '-e', "import { openRegistry } from 'harn-agents'; const r = openRegistry({ cwd: process.cwd() }); console.log((await r.register('esm')).id);"]);
    expect(esm.stderr).toBe('');
    expect(esm.stdout).toMatch(/^\d+\n$/);
    const cjs = inProject(process.execPath, ['--input-type=commonjs', '-e', "const { openRegistry, ExitCode } = require('harn-agents'); openRegistry({ cwd: process.cwd() }).register('cjs').then((a) => console.log(a.id, ExitCode.usage));"]);
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout).toMatch(/^\d+ 2\n$/);
  });

  it('its types compile without @types/node, from ESM and CommonJS', () => {
    fs.writeFileSync(path.join(project, 'esm.ts'), "import { openRegistry, type LockResult } from 'harn-agents';\nexport const r = openRegistry({ cwd: '.' });\nexport const f = (x: LockResult): boolean => x.granted;\n");
    fs.writeFileSync(path.join(project, 'cjs.cts'), "import harn = require('harn-agents');\nexport const r = harn.openRegistry({ cwd: '.' });\n");
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [], skipLibCheck: false, noEmit: true, lib: ['es2022'] }, files: ['esm.ts', 'cjs.cts'] }),
    );
    const tsc = inProject(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.']);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });
});
