import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, readState, statePath, tempDir, writeState } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// Inputs that used to brick a workspace: each is refused with one line and a documented exit code, and a
// state the tool cannot understand is left byte for byte. In-process through the CLI's own wiring (runCli).

const T = Date.now();
/** One call in `cwd`, in-process, on a clock held at the start of this file. */
const cli = (args: string[], options: { cwd: string }) => inProcessCli({ ws: options.cwd, clock: testClock(T) }).run(args);

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

describe('ids a call may choose stop at 2^32-1, so registration cannot be exhausted', async () => {
  it('register x --id 9007199254740990 is refused (exit 2) and later registrations still work', async () => {
    const ws = workspace();
    const refused = (await cli(['register', 'x', '--id', '9007199254740990'], { cwd: ws }));
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(oneLine(refused.stderr)).toBe(
      "harn-agents: --id: 9007199254740990 is beyond the ids an agent can be registered under (0 to 4294967295); leave the id out to get the next free one",
    );
    expect(fs.existsSync(statePath(ws))).toBe(false);
    expect((await cli(['register', 'x', '--id', '4294967295'], { cwd: ws })).stdout).toBe('4294967295\n');
    expect((await cli(['register', 'y'], { cwd: ws })).stdout).toBe('4294967296\n');
  });

  it('a heartbeat or lock for an unknown id above the range is refused and writes nothing', async () => {
    const ws = workspace();
    expect((await cli(['register', 'a'], { cwd: ws })).code).toBe(0);
    const before = fs.readFileSync(statePath(ws));
    for (const [args, id] of [[['heartbeat', '9007199254740990'], '9007199254740990'], [['lock', 'a.ts', '--agent', '4294967296'], '4294967296']] as const) {
      const result = await cli([...args], { cwd: ws });
      expect({ args, result }).toEqual({ args, result: { code: 2, stdout: '', stderr: `harn-agents: agent ${id} is not registered, and a call can register an agent only under ids 0 to 4294967295\n` } });
    }
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
    expect((await cli(['register', 'b'], { cwd: ws })).stdout).toBe('2\n');
  });

  it('a next_id at 2^53-1 (written by another tool) is exit 3 naming doctor, file untouched; reads still work', async () => {
    const ws = workspace();
    const text = '{"next_id":9007199254740991,"agents":[{"id":9007199254740990,"name":"rust","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}}]}';
    writeState(ws, text);
    const result = (await cli(['register', 'x'], { cwd: ws }));
    expect(result).toEqual({ code: 3, stdout: '', stderr: 'harn-agents: agent ids are exhausted: next_id is 9007199254740991 (2^53-1), so no agent can be registered; run `harn-agents doctor --fix-ids`\n' });
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(text);
    const status = await cli(['status', '--all', '--json'], { cwd: ws });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).agents.map((a: { id: number; name: string }) => [a.id, a.name])).toEqual([[9007199254740990, 'rust']]);
  });
});

describe('timestamps near 2^53', async () => {
  it('lock with a last_seen_ms near 2^53 writes an expiry the next call can read', async () => {
    const ws = workspace();
    writeState(ws, '{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":9007199254740000,"edit_count":0,"locked_paths":{}}]}');
    const locked = (await cli(['lock', 'a.ts', '--agent', '1', '--ttl', '1h'], { cwd: ws }));
    expect(locked.code, locked.stderr).toBe(0);
    expect(readState(ws).agents[0]?.locked_paths['a.ts']).toBe(Number.MAX_SAFE_INTEGER);
    const status = (await cli(['status', '--json'], { cwd: ws }));
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).agents[0].locks.map((l: { path: string; expires_ms: number }) => [l.path, l.expires_ms])).toEqual([['a.ts', Number.MAX_SAFE_INTEGER]]);
    expect(await cli(['register', 'b'], { cwd: ws })).toEqual({ code: 0, stdout: '2\n', stderr: '' });
  });
});

describe('a state file with duplicate keys or absurd nesting: exit 3, one line, file untouched', async () => {
  const agent = (locks: string) => `{"id":1,"name":"a","state":"active","last_seen_ms":${T},"edit_count":0,"locked_paths":{${locks}}}`;
  const far = T + 3_600_000;
  const cases: Array<[string, string, string]> = [
    ['next_id twice', `{"next_id":2,"next_id":1,"agents":[${agent('')}]}`, 'duplicate key "next_id" at the top level (line 1, column 14)'],
    ['an agent member twice', `{"next_id":2,"agents":[${agent('').replace('"state":"active"', '"state":"active","state":"gone"')}]}`, 'duplicate key "state" in agents[0]'],
    ['a locked path twice (the live lock would vanish)', `{"next_id":2,"agents":[${agent(`"a.ts":${far},"a.ts":0`)}]}`, 'duplicate key "a.ts" in agents[0].locked_paths'],
    ['nesting 6,000 levels deep', `{"next_id":1,"agents":[],"x":${'['.repeat(6000)}${']'.repeat(6000)}}`, 'nesting is deeper than 1000 levels (line 1, column 1029)'],
  ];
  for (const [what, text, problem] of cases) {
    it(what, async () => {
      const ws = workspace();
      writeState(ws, text);
      for (const args of [['status'], ['holder', 'a.ts'], ['lock', 'b.ts', '--agent', '1'], ['register', 'x']]) {
        const result = await cli(args, { cwd: ws });
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(3);
        expect(result.stdout).toBe('');
        expect(oneLine(result.stderr).startsWith(`harn-agents: state file ${statePath(ws)} is invalid: ${problem}`), result.stderr).toBe(true);
        expect(result.stderr.endsWith("(run 'harn-agents doctor')\n"), result.stderr).toBe(true);
      }
      expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(text);
    });
  }
});

describe('import reads what it is given as a user-named file, bounded, and stdin through the call', () => {
  const snapshot = '{"next_id":3,"agents":[{"id":2,"name":"imported","state":"active","last_seen_ms":' + T + ',"edit_count":0,"locked_paths":{}}]}';

  it('a FIFO or /dev/zero is refused at once (exit 2), the registry untouched', async () => {
    const ws = workspace();
    const before = await cli(['register', 'kept'], { cwd: ws });
    expect(before.code).toBe(0);
    const state = fs.readFileSync(statePath(ws), 'utf8');
    const fifo = `${ws}/pipe`;
    spawnSync('mkfifo', [fifo]);
    for (const [file, kind] of [['/dev/zero', 'a character device'], [fifo, 'a FIFO \\(named pipe\\)']] as const) {
      // The built CLI with a hard limit, not in-process: reading either to its end would block this worker.
      const result = spawnSync(process.execPath, [BIN, 'import', file], { cwd: ws, env: cleanEnv(), encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
      expect(result.signal, 'killed after 20 s: the import hung').toBeNull();
      expect(result.status, result.stderr).toBe(2);
      expect(oneLine(result.stderr)).toMatch(new RegExp(`^harn-agents: cannot read ${file}: .* is ${kind}, not a regular file`));
    }
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(state);
  });

  it('a symlink to a snapshot elsewhere is followed; a missing file is exit 2; - reads the call\'s stdin', async () => {
    const ws = workspace();
    const elsewhere = workspace();
    fs.writeFileSync(`${elsewhere}/snap.json`, snapshot);
    fs.symlinkSync(`${elsewhere}/snap.json`, `${ws}/link.json`);
    expect(await cli(['import', 'link.json'], { cwd: ws })).toMatchObject({ code: 0, stderr: '' });
    expect(readState(ws).agents.map((a) => a.name)).toEqual(['imported']);
    expect(await cli(['import', 'missing.json'], { cwd: ws })).toEqual({ code: 2, stdout: '', stderr: 'harn-agents: cannot read missing.json: no such file; nothing was imported\n' });
    const fromStdin = await inProcessCli({ ws, clock: testClock(T) }).run(['import', '-'], {}, snapshot.replace('imported', 'piped'));
    expect(fromStdin).toMatchObject({ code: 0, stderr: '' });
    expect(readState(ws).agents.map((a) => a.name)).toEqual(['piped']);
  });
});
