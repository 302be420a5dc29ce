import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHarnError, openRegistry } from '../../src/api/index.js';
import { MAX_PATH_BYTES } from '../../src/core/validate.js';
import { cli, readState, statePath, tempDir, writeState } from '../helpers/cli.js';
import { FileStore } from '../../src/store/file-store.js';
import { findWorkspace } from '../../src/store/workspace.js';
import { DEFAULT_CONFIG } from '../../src/core/registry.js';

// Issue 21: limits that hold before writing. One path limit on every face and both stores, a state-size
// check before every write, and ids no import can exhaust (with doctor's way back from a state that has).

const BASE_URL = process.env.HARN_TEST_POSTGRES_URL;
const SCHEMA = `harn_limits_${process.pid}_${Date.now()}`;
const pgUrl = (): string => {
  const url = new URL(BASE_URL ?? 'postgres://localhost/none');
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
};

const tooLong = `src/${'a'.repeat(MAX_PATH_BYTES - 4)}.ts`; // MAX_PATH_BYTES + 3 bytes
const longest = `src/${'a'.repeat(MAX_PATH_BYTES - 4)}`; // exactly MAX_PATH_BYTES
const pathRefusal = /^the path 'src\/a+\.\.\.' is \d+ bytes; a lock path may be at most 1024 bytes \(UTF-8, relative to the workspace\)$/;

async function refusal(promise: Promise<unknown>): Promise<{ code: number; message: string } | 'granted'> {
  try {
    await promise;
    return 'granted';
  } catch (error) {
    if (!isHarnError(error)) throw error;
    return { code: error.exitCode, message: error.message };
  }
}

describe('one path limit, before anything is written', () => {
  it('file store: an 8 MiB path and a path one byte over are refused with exit 2 by the CLI and the library; the longest fits', async () => {
    const ws = tempDir();
    const registry = openRegistry({ cwd: ws });
    const { id } = await registry.register('a');
    expect(await refusal(registry.lock([`x/${'y'.repeat(8 * 1024 * 1024)}`], { agent: id }))).toMatchObject({ code: 2, message: expect.stringMatching(/^the path 'x\/y+\.\.\.' is 8388610 bytes/) });
    expect(await refusal(registry.lock([tooLong], { agent: id }))).toMatchObject({ code: 2, message: expect.stringMatching(pathRefusal) });
    const viaCli = cli(['lock', tooLong, '--agent', String(id)], { cwd: ws });
    expect(viaCli.code).toBe(2);
    expect(viaCli.stderr).toMatch(/^harn-agents: the path 'src\/a+\.\.\.' is 1027 bytes; a lock path may be at most 1024 bytes/);
    // A character counts its UTF-8 bytes: 'src/' and 511 of 'é' (2 bytes each) is 1026 bytes.
    expect(await refusal(registry.lock([`src/${'é'.repeat(511)}`], { agent: id }))).toMatchObject({ code: 2 });
    expect(await refusal(registry.lock([longest], { agent: id }))).toBe('granted');
    expect(fs.statSync(statePath(ws)).size).toBeLessThan(4096);
  });

  it('import refuses a snapshot with a path over the limit, or ids past the ones a call may choose; nothing is imported', () => {
    const ws = tempDir();
    expect(cli(['register', 'keep'], { cwd: ws }).code).toBe(0);
    const before = fs.readFileSync(statePath(ws));
    const snapshots: Array<[string, RegExp]> = [
      [`{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":1,"edit_count":0,"locked_paths":{"${'p'.repeat(7000)}":2}}]}`, /agent 1 locks a path of 7000 bytes; a lock path may be at most 1024; nothing was imported$/],
      ['{"next_id":9007199254740991,"agents":[]}', /next_id 9007199254740991 is past the ids agents can be registered under \(at most 4294967296\); nothing was imported$/],
      ['{"next_id":9007199254740991,"agents":[{"id":9007199254740990,"name":"a","state":"active","last_seen_ms":1,"edit_count":0,"locked_paths":{}}]}', /next_id 9007199254740991 is past/],
      ['{"next_id":5000000001,"agents":[{"id":5000000000,"name":"a","state":"active","last_seen_ms":1,"edit_count":0,"locked_paths":{}}]}', /next_id 5000000001 is past/],
    ];
    for (const [text, message] of snapshots) {
      const file = `${tempDir()}/snapshot.json`;
      fs.writeFileSync(file, text);
      const result = cli(['import', file], { cwd: ws });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trimEnd()).toMatch(message);
      expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
    }
    expect(cli(['register', 'next'], { cwd: ws })).toMatchObject({ code: 0, stdout: '2\n' });
  });

  it('a write that would take the state file past its cap is refused, nothing written, and every other call still works', async () => {
    // The real FileStore, with a cap of 4 KiB in place of 64 MiB: a 64 MiB state takes seconds to parse
    // under load, past the state lock's 4 s fence, so that size would test the machine's speed instead.
    const ws = tempDir();
    const store = new FileStore({ workspace: findWorkspace(ws, {}), config: DEFAULT_CONFIG, clock: Date.now, maxStateBytes: 4096 });
    const lock = (path: string) => store.transact('update', ({ registry, nowMs }) => registry.tryLock(1, path, 3_600_000, nowMs));
    await store.transact('update', ({ registry, nowMs }) => registry.registerWithId(1, 'a', nowMs));
    for (let i = 0; fs.statSync(statePath(ws)).size < 4096 - 300; i++) await lock(`src/${'f'.repeat(100)}-${i}.ts`);
    const before = fs.readFileSync(statePath(ws));
    let refused: unknown;
    await lock(`src/${'b'.repeat(300)}.ts`).catch((error: unknown) => (refused = error));
    expect(isHarnError(refused) && refused.exitCode).toBe(3);
    expect(isHarnError(refused) && refused.doctorCanSee).toBe(false);
    expect((refused as Error).message).toMatch(/^this change would make the state file \d+ bytes, over the 4096 bytes \(0\.00 MiB\) a state file may be; nothing was written \(release locks or prune agents no longer needed first\)$/);
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
    // A call that keeps it under the cap still writes; reads go on.
    await store.transact('update', ({ registry }) => registry.releaseLock(1, `src/${'f'.repeat(100)}-0.ts`));
    expect(cli(['status'], { cwd: ws }).code).toBe(0);
  });

  it('a state whose next_id is exhausted: register says to run doctor --fix-ids, doctor finds it, and the fix keeps agents and locks', () => {
    const ws = tempDir();
    writeState(ws, `{"next_id":9007199254740991,"agents":[{"id":7,"name":"a","state":"active","last_seen_ms":${Date.now()},"edit_count":0,"locked_paths":{"a.ts":9007199254740991}}]}`);
    const refused = cli(['register', 'b'], { cwd: ws });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toBe('harn-agents: agent ids are exhausted: next_id is 9007199254740991 (2^53-1), so no agent can be registered; run `harn-agents doctor --fix-ids`\n');
    const doctor = cli(['--json', 'doctor'], { cwd: ws });
    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.stdout).checks.find((c: { check: string }) => c.check === 'state')).toEqual({
      check: 'state',
      ok: false,
      detail: 'agent ids are exhausted: next_id is 9007199254740991, so no agent can be registered',
      fix: 'harn-agents doctor --fix-ids',
    });
    const fixed = cli(['doctor', '--fix-ids'], { cwd: ws });
    expect(fixed).toMatchObject({ code: 0, stdout: 'next_id moved from 9007199254740991 to 8: agents can be registered again (every agent and lock kept)\n' });
    expect(cli(['register', 'b'], { cwd: ws })).toMatchObject({ code: 0, stdout: '8\n' });
    expect(readState(ws).agents.find((a) => a.id === 7)?.locked_paths).toEqual({ 'a.ts': 9007199254740991 });
    expect(cli(['doctor'], { cwd: ws }).code).toBe(0);
    expect(JSON.parse(cli(['--json', 'log'], { cwd: ws }).stdout).events.map((e: { type: string }) => e.type)).toEqual(['ids-repair']);
  });
});

describe.skipIf(!BASE_URL)('one path limit on PostgreSQL', () => {
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  });

  it('a 7,000-character path is exit 2 with the file store\'s words (it was the server\'s "index row size" error, exit 3); the longest path fits', () => {
    const ws = tempDir();
    const store = ['--store', pgUrl(), '--namespace', 'limits'];
    expect(cli([...store, 'register', 'a'], { cwd: ws }).code).toBe(0);
    // Random characters: a repeated one compresses under the index's limit.
    const huge = cli([...store, 'lock', `src/${randomBytes(3500).toString('hex')}`, '--agent', '1'], { cwd: ws });
    expect(huge.code, huge.stderr).toBe(2);
    expect(huge.stderr).toMatch(/^harn-agents: the path 'src\/[0-9a-f]+\.\.\.' is 7004 bytes; a lock path may be at most 1024 bytes/);
    expect(cli([...store, 'lock', `src/${'é'.repeat(510)}`, '--agent', '1'], { cwd: ws }).code).toBe(0);
    const fits = cli([...store, 'lock', longest, '--agent', '1'], { cwd: ws });
    expect(fits.code, fits.stderr).toBe(0);
    expect(JSON.parse(cli([...store, '--json', 'holder', longest], { cwd: ws }).stdout)).toMatchObject([{ path: longest, holders: [{ agent: { id: 1 } }] }]);
  });

  it('a namespace over 512 bytes is refused before it reaches an index', () => {
    const ws = tempDir();
    const result = cli(['--store', pgUrl(), '--namespace', 'n'.repeat(600), 'status'], { cwd: ws });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^harn-agents: the namespace 'n+\.\.\.' is longer than the 512 bytes a namespace may be; choose a shorter one with --namespace\n$/);
  });

  it('doctor --fix-ids repairs an exhausted next_id in a namespace', async () => {
    const ws = tempDir();
    const store = ['--store', pgUrl(), '--namespace', 'ids'];
    expect(cli([...store, 'register', 'a'], { cwd: ws }).code).toBe(0);
    await admin.query(`UPDATE ${SCHEMA}.harn_namespaces SET next_id = 9007199254740991 WHERE namespace = 'ids'`);
    expect(cli([...store, 'register', 'b'], { cwd: ws }).code).toBe(3);
    expect(JSON.parse(cli([...store, '--json', 'doctor'], { cwd: ws }).stdout).checks.find((c: { check: string }) => c.check === 'state')).toMatchObject({
      ok: false,
      fix: expect.stringMatching(/^harn-agents --store .* --namespace ids doctor --fix-ids$/),
    });
    expect(cli([...store, 'doctor', '--fix-ids'], { cwd: ws }).code).toBe(0);
    expect(cli([...store, 'register', 'b'], { cwd: ws })).toMatchObject({ code: 0, stdout: '2\n' });
  });
});
