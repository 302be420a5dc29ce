import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, isHarnError, openRegistry } from '../../src/api/index.js';
import { cli, readState, tempDir } from '../helpers/cli.js';

describe('the library API', () => {
  it('runs every use case against the same state file the CLI uses, returning the --json shapes', async () => {
    const ws = tempDir();
    const registry = openRegistry({ cwd: ws });
    expect(registry.workspace.root).toBe(ws);
    expect(fs.existsSync(path.join(ws, '.harn'))).toBe(false); // opening reads nothing

    const { id } = await registry.register('editor');
    expect(id).toBe(1);
    const lock = await registry.lock(['src/a.ts', 'docs/'], { agent: id, ttl: '5m', reason: 'api test' });
    expect(lock).toMatchObject({ granted: true, agent: 1, locks: [{ path: 'src/a.ts', kind: 'path' }, { path: 'docs/', kind: 'directory' }] });
    // The CLI sees it, and its --json equals the API's result.
    // (retry_after_ms is counted from each answer's own time, which moved between the two.)
    const holds = (answer: ReadonlyArray<{ path: string; holders: readonly unknown[] }>) => answer.map((p) => ({ path: p.path, holders: p.holders }));
    expect(holds(JSON.parse(cli(['--json', 'holder', 'docs/x.md'], { cwd: ws }).stdout))).toEqual(holds([...(await registry.holder(['docs/x.md']))]));

    cli(['lock', 'src/b.ts', '--agent', '2'], { cwd: ws });
    const refused = await registry.lock(['src/b.ts'], { agent: id });
    expect(refused).toMatchObject({ granted: false, conflicts: [{ path: 'src/b.ts', holders: [{ agent: { id: 2 } }] }] });
    expect((await registry.check(['src/a.ts', 'src/b.ts'], { agent: id })).conflicts.map((c) => c.path)).toEqual(['src/b.ts']);
    expect(await registry.noteEdit(id)).toMatchObject({ counted: true, edit_count: 1 });
    expect(await registry.heartbeat(id)).toMatchObject({ id, state: 'active' });
    expect((await registry.status()).agents.map((a) => a.id)).toEqual([1, 2]);
    expect(await registry.release(['src/a.ts'], { agent: id })).toMatchObject({ released: ['src/a.ts'] });
    expect(await registry.release(['src/b.ts'], { force: true, reason: 'test' })).toMatchObject({ broken: [{ path: 'src/b.ts' }] });
    expect((await registry.log()).events.map((e) => e.type)).toEqual(['force-release']);
    expect(await registry.unregister(id)).toMatchObject({ removed: true });
    expect(readState(ws).agents.map((a) => a.id)).toEqual([2]);
  });

  it('shared locks, slots and patterns through the library: the same Hold shape as the CLI', async () => {
    const ws = tempDir();
    const now = 1_000_000;
    const registry = openRegistry({ cwd: ws, clock: () => now });
    expect(await registry.lock(['docs/x.md'], { agent: 1, shared: true, reason: 'reading' })).toMatchObject({ granted: true, locks: [{ mode: 'shared', reason: 'reading' }] });
    expect((await registry.lock(['docs/x.md'], { agent: 2, shared: true })).granted).toBe(true);
    const refused = await registry.lock(['docs/'], { agent: 3 });
    expect(refused.granted).toBe(false);
    expect(refused.conflicts[0]?.holders.map((h) => [h.agent.id, h.mode])).toEqual([
      [1, 'shared'],
      [2, 'shared'],
    ]);
    expect((await registry.lock(['@gpu'], { agent: 1, slots: 2 })).granted).toBe(true);
    await expect(registry.lock(['@gpu'], { agent: 2, slots: 3 })).rejects.toMatchObject({ exitCode: 2 });
    await expect(registry.lock(['a.ts'], { agent: 2, slots: 2 })).rejects.toMatchObject({ exitCode: 2 });
    await expect(registry.lock(['@gpu'], { agent: 2, shared: 'yes' as unknown as boolean })).rejects.toMatchObject({ exitCode: 2 });
    expect((await registry.lock(['src/**/*.test.ts'], { agent: 4 })).granted).toBe(true);
    const [held] = await registry.holder(['src/a/b.test.ts']);
    expect(held?.holders).toEqual([{ path: 'src/**/*.test.ts', kind: 'pattern', mode: 'exclusive', slots: null, agent: { id: 4, name: 'agent-4' }, expires_ms: now + 30_000, reason: null }]);
  });

  it('an injected clock drives expiry and reaping', async () => {
    const ws = tempDir();
    let now = 1_000_000;
    const registry = openRegistry({ cwd: ws, clock: () => now, agentTimeout: '10s' });
    const { id } = await registry.register('a');
    await registry.lock(['f'], { agent: id, ttl: 5_000 });
    now += 5_000;
    expect((await registry.holder(['f']))[0]?.holders).toEqual([]);
    now += 6_000;
    expect((await registry.reap()).reaped).toEqual([{ id, name: 'a' }]);
  });

  it('throws HarnErrors carrying the CLI exit codes', async () => {
    const ws = tempDir();
    const registry = openRegistry({ cwd: ws });
    const failures: unknown[] = [];
    await registry.lock(['../outside'], { agent: 1 }).catch((e: unknown) => failures.push(e));
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.writeFileSync(path.join(ws, '.harn/agents.json'), '{broken');
    await registry.status().catch((e: unknown) => failures.push(e));
    expect(failures.map((e) => (isHarnError(e) ? e.exitCode : 'not a HarnError'))).toEqual([ExitCode.usage, ExitCode.state]);
    expect(() => openRegistry({ cwd: ws, lockTtl: 'soon' })).toThrow(/lockTtl: 'soon' is not a duration/);
  });

  it('is importable by package name, with type declarations', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const ws = tempDir();
    const script = `import('harn-agents').then(async (m) => { const r = m.openRegistry({ cwd: ${JSON.stringify(ws)} }); console.log(JSON.stringify(await r.register('pkg'))); })`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ id: 1, name: 'pkg' });
    expect(fs.readFileSync(path.join(root, 'dist/types/api/index.d.ts'), 'utf8')).toMatch(/export declare function openRegistry/);
  });
});
