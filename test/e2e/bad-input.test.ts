import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, readState, statePath, tempDir, writeState } from '../helpers/cli.js';

// Inputs that used to brick a workspace: each is refused with one line and a documented exit code, and a
// state the tool cannot understand is left byte for byte.

const dirs: string[] = [];
const workspace = (): string => {
  const dir = tempDir('harn-bad-input-');
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const oneLine = (stderr: string): string => {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
};

describe('ids a call may choose stop at 2^32-1, so registration cannot be exhausted', () => {
  it('register x --id 9007199254740990 is refused (exit 2) and later registrations still work', () => {
    const ws = workspace();
    const refused = cli(['register', 'x', '--id', '9007199254740990'], { cwd: ws });
    expect(refused.code).toBe(2);
    expect(oneLine(refused.stderr)).toBe(
      "harn-agents: --id: 9007199254740990 is beyond the ids an agent can be registered under (0 to 4294967295); leave the id out to get the next free one",
    );
    expect(fs.existsSync(statePath(ws))).toBe(false);
    expect(cli(['register', 'x', '--id', '4294967295'], { cwd: ws }).stdout).toBe('4294967295\n');
    expect(cli(['register', 'y'], { cwd: ws }).stdout).toBe('4294967296\n');
  });

  it('a heartbeat or lock for an unknown id above the range is refused and writes nothing', () => {
    const ws = workspace();
    expect(cli(['register', 'a'], { cwd: ws }).code).toBe(0);
    const before = fs.readFileSync(statePath(ws));
    for (const args of [['heartbeat', '9007199254740990'], ['lock', 'a.ts', '--agent', '4294967296']]) {
      const result = cli(args, { cwd: ws });
      expect(result.code).toBe(2);
      expect(oneLine(result.stderr)).toMatch(/is not registered, and a call can register an agent only under ids 0 to 4294967295$/);
    }
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
    expect(cli(['register', 'b'], { cwd: ws }).stdout).toBe('2\n');
  });

  it('a next_id at 2^53-1 (written by another tool) is exit 3 naming doctor, file untouched; reads still work', () => {
    const ws = workspace();
    const text = '{"next_id":9007199254740991,"agents":[{"id":9007199254740990,"name":"rust","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}}]}';
    writeState(ws, text);
    const result = cli(['register', 'x'], { cwd: ws });
    expect(result.code).toBe(3);
    expect(oneLine(result.stderr)).toMatch(/agent ids are exhausted: next_id is 9007199254740991 .*run `harn-agents doctor`$/);
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(text);
    expect(cli(['status', '--all', '--json'], { cwd: ws }).code).toBe(0);
  });
});

describe('timestamps near 2^53', () => {
  it('lock with a last_seen_ms near 2^53 writes an expiry the next call can read', () => {
    const ws = workspace();
    writeState(ws, '{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":9007199254740000,"edit_count":0,"locked_paths":{}}]}');
    const locked = cli(['lock', 'a.ts', '--agent', '1', '--ttl', '1h'], { cwd: ws });
    expect(locked.code).toBe(0);
    expect(readState(ws).agents[0]?.locked_paths['a.ts']).toBe(Number.MAX_SAFE_INTEGER);
    const status = cli(['status', '--json'], { cwd: ws });
    expect(status.code, status.stderr).toBe(0);
    expect(cli(['register', 'b'], { cwd: ws }).code).toBe(0);
  });
});

describe('a state file with duplicate keys or absurd nesting: exit 3, one line, file untouched', () => {
  const agent = (locks: string) => `{"id":1,"name":"a","state":"active","last_seen_ms":${Date.now()},"edit_count":0,"locked_paths":{${locks}}}`;
  const far = Date.now() + 3_600_000;
  const cases: Array<[string, string, string]> = [
    ['next_id twice', `{"next_id":2,"next_id":1,"agents":[${agent('')}]}`, 'duplicate key "next_id" at the top level (line 1, column 14)'],
    ['an agent member twice', `{"next_id":2,"agents":[${agent('').replace('"state":"active"', '"state":"active","state":"gone"')}]}`, 'duplicate key "state" in agents[0]'],
    ['a locked path twice (the live lock would vanish)', `{"next_id":2,"agents":[${agent(`"a.ts":${far},"a.ts":0`)}]}`, 'duplicate key "a.ts" in agents[0].locked_paths'],
    ['nesting 6,000 levels deep', `{"next_id":1,"agents":[],"x":${'['.repeat(6000)}${']'.repeat(6000)}}`, 'nesting is deeper than 1000 levels (line 1, column 1029)'],
  ];
  for (const [what, text, problem] of cases) {
    it(what, () => {
      const ws = workspace();
      writeState(ws, text);
      for (const args of [['status'], ['holder', 'a.ts'], ['lock', 'b.ts', '--agent', '1'], ['register', 'x']]) {
        const result = cli(args, { cwd: ws });
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(3);
        expect(oneLine(result.stderr).startsWith(`harn-agents: state file ${statePath(ws)} is invalid: ${problem}`), result.stderr).toBe(true);
      }
      expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(text);
    });
  }
});
