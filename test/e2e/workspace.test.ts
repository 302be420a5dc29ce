import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cli, readState, statePath, tempDir } from '../helpers/cli.js';

let ws: string;
beforeEach(() => {
  ws = tempDir();
});

describe('workspace discovery', () => {
  it('uses the nearest ancestor holding .harn/, and takes paths relative to the current directory', () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.mkdirSync(path.join(ws, 'src', 'deep'), { recursive: true });
    const sub = path.join(ws, 'src', 'deep');
    expect(cli(['lock', 'x.ts', '../y.ts', '--agent', '1'], { cwd: sub }).code).toBe(0);
    expect(Object.keys(readState(ws).agents[0]?.locked_paths ?? {})).toEqual(['src/deep/x.ts', 'src/y.ts']);
    expect(cli(['holder', 'src/deep/x.ts'], { cwd: ws }).stdout).toMatch(/^src\/deep\/x\.ts: agent 1/);
    expect(cli(['holder', path.join(ws, 'src/y.ts')], { cwd: sub }).code).toBe(0);
  });

  it('falls back to the git top-level when no .harn/ exists', () => {
    expect(spawnSync('git', ['init', '-q', ws]).status).toBe(0);
    const sub = path.join(ws, 'pkg');
    fs.mkdirSync(sub);
    expect(cli(['register', 'a'], { cwd: sub }).code).toBe(0);
    expect(fs.existsSync(statePath(ws))).toBe(true);
    expect(fs.existsSync(path.join(sub, '.harn'))).toBe(false);
  });

  it('falls back to the current directory outside git', () => {
    const sub = path.join(ws, 'plain');
    fs.mkdirSync(sub);
    expect(cli(['register', 'a'], { cwd: sub }).code).toBe(0);
    expect(fs.existsSync(statePath(sub))).toBe(true);
  });

  it('HARN_WORKSPACE wins over discovery', () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    const other = tempDir();
    expect(cli(['register', 'a'], { cwd: ws, env: { HARN_WORKSPACE: other } }).code).toBe(0);
    expect(fs.existsSync(statePath(other))).toBe(true);
    expect(fs.existsSync(statePath(ws))).toBe(false);
    const missing = cli(['status'], { cwd: ws, env: { HARN_WORKSPACE: path.join(ws, 'nope') } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/HARN_WORKSPACE .* does not exist/);
  });

  it('-C DIR runs as if started in DIR', () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.mkdirSync(path.join(ws, 'src'));
    const elsewhere = tempDir();
    expect(cli(['-C', path.join(ws, 'src'), 'lock', 'a.ts', '--agent', '1'], { cwd: elsewhere }).code).toBe(0);
    expect(Object.keys(readState(ws).agents[0]?.locked_paths ?? {})).toEqual(['src/a.ts']);
    expect(cli(['-C', 'src', 'holder', 'a.ts'], { cwd: ws }).code).toBe(0);
    expect(cli(['-C', 'missing', 'status'], { cwd: ws }).code).toBe(2);
  });

  it('a path outside the workspace is bad input and changes nothing', () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    for (const bad of ['../outside.ts', '/etc/passwd', '', '.']) {
      const result = cli(['lock', bad, '--agent', '1'], { cwd: ws });
      expect(result.code).toBe(2);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(fs.existsSync(statePath(ws))).toBe(false);
  });
});

describe('compatibility with the seed layout', () => {
  it('a file in the seed exact layout is read, and written back losslessly by a change elsewhere', () => {
    const seed =
      '{"next_id":8,"agents":[{"id":7,"name":"rust-embedder","state":"active","last_seen_ms":' +
      `${Date.now()}` +
      ',"edit_count":12,"locked_paths":{"src/lib.rs":' +
      `${Date.now() + 600_000}` +
      // Crashed an hour ago: within the retention period, so a write keeps it (older history is dropped).
      '}},{"id":3,"name":"old","state":"crashed","last_seen_ms":' +
      `${Date.now() - 3_600_000}` +
      ',"edit_count":1,"locked_paths":{}}]}';
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.writeFileSync(statePath(ws), seed);
    expect(cli(['holder', 'src/lib.rs'], { cwd: ws }).stdout).toMatch(/^src\/lib\.rs: agent 7 \(rust-embedder\)/);
    // Nothing changed: the file is not rewritten at all.
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(seed);
    // A change appends the new agent and keeps every byte of the rest.
    expect(cli(['register', 'cli'], { cwd: ws }).stdout).toBe('8\n');
    const after = fs.readFileSync(statePath(ws), 'utf8');
    expect(after.startsWith(seed.slice(0, -2).replace('"next_id":8', '"next_id":9'))).toBe(true);
    expect(JSON.parse(after).agents.slice(0, 2)).toEqual(JSON.parse(seed).agents);
  });

  it('missing next_id and agents default as in the seed', () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.writeFileSync(statePath(ws), '{}');
    expect(cli(['register', 'a'], { cwd: ws }).stdout).toBe('1\n');
    expect(fs.readFileSync(statePath(ws), 'utf8')).toMatch(/^\{"next_id":2,"agents":\[\{"id":1,"name":"a","state":"active","last_seen_ms":\d+,"edit_count":0,"locked_paths":\{\}\}\]\}\n$/);
  });
});

describe('when the registry is ahead of the wall clock', () => {
  it('the registry time does not go back: no early expiry or reap, and status says how far and which side moved', () => {
    const wall = Date.now();
    const ahead = wall + 3_600_000; // the file was written by a clock an hour ahead of ours
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.writeFileSync(
      statePath(ws),
      JSON.stringify({
        next_id: 3,
        agents: [
          { id: 1, name: 'a', state: 'active', last_seen_ms: ahead, edit_count: 0, locked_paths: { f: ahead + 10_000 } },
          { id: 2, name: 'b', state: 'active', last_seen_ms: ahead - 40_000, edit_count: 0, locked_paths: {} },
        ],
      }),
    );
    const granted = JSON.parse(cli(['--json', 'lock', 'g', '--agent', '3', '--ttl', '30s'], { cwd: ws }).stdout);
    expect(granted.paths[0].expires_ms).toBeGreaterThanOrEqual(ahead + 30_000);
    expect(cli(['lock', 'f', '--agent', '3'], { cwd: ws }).code).toBe(1);

    const status = JSON.parse(cli(['--json', 'status'], { cwd: ws }).stdout);
    expect(status.clock_behind_ms).toBeGreaterThan(3_500_000);
    expect(status.clock_behind_ms).toBeLessThanOrEqual(3_600_000);
    expect(status.agents.map((a: { state: string }) => a.state)).toEqual(['active', 'active', 'active']);

    const text = cli(['status'], { cwd: ws });
    expect(text.code).toBe(0);
    // The file was just written (its mtime is now) with stamps an hour ahead: a writer ahead, not our clock.
    expect(text.stderr).toMatch(/^harn-agents: warning: the registry's time is (59m\d+s|1h) ahead of this machine's clock: a call with a clock ahead wrote it/);
  });
});
