import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { ExitCode, isHarnError, openRegistry, type Registry } from '../../src/api/index.js';

// The library fed every wrong type, in-process: each call must reject with a HarnError meaning "bad input"
// (exit code 2), not a TypeError, and must leave the state file exactly as it was.

let ws: string;
let registry: Registry;
let before: Buffer;
const statePath = () => path.join(ws, '.harn', 'agents.json');

beforeAll(async () => {
  ws = tempDir('harn-api-input-');
  registry = openRegistry({ cwd: ws, clock: () => 1_000_000 });
  const { id } = await registry.register('seed');
  await registry.lock(['held.ts'], { agent: id, ttl: '1h', reason: 'seed' });
  before = fs.readFileSync(statePath());
});

// Calls made with types TypeScript would refuse, as plain JavaScript callers make them.
type Loose = Record<keyof Registry, (...args: unknown[]) => Promise<unknown>>;
const loose = (): Loose => registry as unknown as Loose;

const CASES: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
  ['register(42)', () => loose().register(42)],
  ['register()', () => loose().register()],
  ["register('')", () => loose().register('')],
  ['register(a 1000-character name)', () => loose().register('n'.repeat(1000))],
  ["register({name: 'x'})", () => loose().register({ name: 'x' })],
  ["register('x', {id: 1.5})", () => loose().register('x', { id: 1.5 })],
  ["register('x', {id: '7'})", () => loose().register('x', { id: '7' })],
  ["register('x', {id: -1})", () => loose().register('x', { id: -1 })],
  ["register('x', {id: NaN})", () => loose().register('x', { id: NaN })],
  ["register('x', {id: 2^32})", () => loose().register('x', { id: 2 ** 32 })],
  ["register('x', {id: 9007199254740990})", () => loose().register('x', { id: 9007199254740990 })],
  ["register('x', 5)", () => loose().register('x', 5)],
  ["heartbeat('7')", () => loose().heartbeat('7')],
  ['heartbeat(1.5)', () => loose().heartbeat(1.5)],
  ['heartbeat(-1)', () => loose().heartbeat(-1)],
  ['heartbeat(NaN)', () => loose().heartbeat(NaN)],
  ['heartbeat(Infinity)', () => loose().heartbeat(Infinity)],
  ['heartbeat()', () => loose().heartbeat()],
  ['heartbeat(null)', () => loose().heartbeat(null)],
  ['heartbeat({})', () => loose().heartbeat({})],
  ['heartbeat(an unknown id above 2^32-1)', () => loose().heartbeat(2 ** 40)],
  ["unregister('1')", () => loose().unregister('1')],
  ['unregister(1.5)', () => loose().unregister(1.5)],
  ['unregister()', () => loose().unregister()],
  ["noteEdit('1')", () => loose().noteEdit('1')],
  ['noteEdit([1])', () => loose().noteEdit([1])],
  ["lock(['a.ts'], {})", () => loose().lock(['a.ts'], {})],
  ["lock(['a.ts'])", () => loose().lock(['a.ts'])],
  ["lock(['a.ts'], 7)", () => loose().lock(['a.ts'], 7)],
  ["lock(['a.ts'], {agent: '7'})", () => loose().lock(['a.ts'], { agent: '7' })],
  ["lock(['a.ts'], {agent: 1.5})", () => loose().lock(['a.ts'], { agent: 1.5 })],
  ["lock(['a.ts'], {agent: null})", () => loose().lock(['a.ts'], { agent: null })],
  ["lock(['a.ts'], {agent: an unknown id above 2^32-1})", () => loose().lock(['a.ts'], { agent: 2 ** 40 })],
  ["lock('a.ts', {agent: 1})", () => loose().lock('a.ts', { agent: 1 })],
  ['lock([], {agent: 1})', () => loose().lock([], { agent: 1 })],
  ['lock([5], {agent: 1})', () => loose().lock([5], { agent: 1 })],
  ["lock([''], {agent: 1})", () => loose().lock([''], { agent: 1 })],
  ["lock(['a\\0b'], {agent: 1})", () => loose().lock(['a\0b'], { agent: 1 })],
  ["lock(['a.ts'], {agent: 1, ttl: -1})", () => loose().lock(['a.ts'], { agent: 1, ttl: -1 })],
  ["lock(['a.ts'], {agent: 1, ttl: 0})", () => loose().lock(['a.ts'], { agent: 1, ttl: 0 })],
  ["lock(['a.ts'], {agent: 1, ttl: NaN})", () => loose().lock(['a.ts'], { agent: 1, ttl: NaN })],
  ["lock(['a.ts'], {agent: 1, ttl: Infinity})", () => loose().lock(['a.ts'], { agent: 1, ttl: Infinity })],
  ["lock(['a.ts'], {agent: 1, ttl: 1.5})", () => loose().lock(['a.ts'], { agent: 1, ttl: 1.5 })],
  ["lock(['a.ts'], {agent: 1, ttl: 2^53})", () => loose().lock(['a.ts'], { agent: 1, ttl: 2 ** 53 })],
  ["lock(['a.ts'], {agent: 1, ttl: {}})", () => loose().lock(['a.ts'], { agent: 1, ttl: {} })],
  ["lock(['a.ts'], {agent: 1, ttl: 'soon'})", () => loose().lock(['a.ts'], { agent: 1, ttl: 'soon' })],
  ["lock(['a.ts'], {agent: 1, wait: -1})", () => loose().lock(['a.ts'], { agent: 1, wait: -1 })],
  ["lock(['a.ts'], {agent: 1, reason: 5})", () => loose().lock(['a.ts'], { agent: 1, reason: 5 })],
  ["lock(['a.ts'], {agent: 1, reason: ' '})", () => loose().lock(['a.ts'], { agent: 1, reason: ' ' })],
  ["lock(['a.ts'], {agent: 1, reason: 5000 characters})", () => loose().lock(['a.ts'], { agent: 1, reason: 'r'.repeat(5000) })],
  ["release('held.ts', {agent: 1})", () => loose().release('held.ts', { agent: 1 })],
  ['release([], {agent: 1})', () => loose().release([], { agent: 1 })],
  ["release(['held.ts'], {agent: '1'})", () => loose().release(['held.ts'], { agent: '1' })],
  ["release(['held.ts'], {force: 'yes', reason: 'x'})", () => loose().release(['held.ts'], { force: 'yes', reason: 'x' })],
  ["release(['held.ts'], {force: true, reason: 5})", () => loose().release(['held.ts'], { force: true, reason: 5 })],
  ["release(['held.ts'], 'agent 1')", () => loose().release(['held.ts'], 'agent 1')],
  ["holder('held.ts')", () => loose().holder('held.ts')],
  ['holder([])', () => loose().holder([])],
  ['holder([5])', () => loose().holder([5])],
  ['holder()', () => loose().holder()],
  ["check('held.ts')", () => loose().check('held.ts')],
  ['check([])', () => loose().check([])],
  ["check(['held.ts'], {agent: '1'})", () => loose().check(['held.ts'], { agent: '1' })],
  ["check(['held.ts'], 5)", () => loose().check(['held.ts'], 5)],
  ["status({agent: '1'})", () => loose().status({ agent: '1' })],
  ['status({pathPrefix: 5})', () => loose().status({ pathPrefix: 5 })],
  ["status({pathPrefix: ''})", () => loose().status({ pathPrefix: '' })],
  ["status({all: 'yes'})", () => loose().status({ all: 'yes' })],
  ['status(5)', () => loose().status(5)],
  ['log({since: -1})', () => loose().log({ since: -1 })],
  ['log({since: {}})', () => loose().log({ since: {} })],
  ["log('1h')", () => loose().log('1h')],
];

describe('the library refuses wrong input with HarnError exit code 2 and changes nothing', () => {
  it.each(CASES)('%s', async (_name, call) => {
    let pending: Promise<unknown> | undefined;
    // Bad input rejects the promise: it never throws where the method is called.
    expect(() => {
      pending = call();
    }).not.toThrow();
    const error = await (pending as Promise<unknown>).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(isHarnError(error) ? { exitCode: error.exitCode, oneLine: !error.message.includes('\n') } : error).toEqual({
      exitCode: ExitCode.usage,
      oneLine: true,
    });
    expect(fs.readFileSync(statePath()).equals(before)).toBe(true);
    expect(fs.existsSync(path.join(ws, '.harn', 'events.jsonl'))).toBe(false);
  });

  it('openRegistry refuses wrong options the same way', () => {
    const open = openRegistry as unknown as (options: unknown) => Registry;
    for (const options of [{ lockTtl: {} }, { lockTtl: -1 }, { agentTimeout: NaN }, { stateLockWait: '0s' }, { cwd: 5 }, { clock: 5 }, { store: 5 }, 5]) {
      let error: unknown;
      try {
        open(options);
      } catch (e) {
        error = e;
      }
      expect(isHarnError(error) ? error.exitCode : error).toBe(ExitCode.usage);
    }
  });

  it('still accepts the valid forms: durations as strings or whole ms, ids up to 2^32-1, null as absent', async () => {
    const other = openRegistry({ cwd: ws, clock: () => 1_000_000, lockTtl: 30_000 });
    expect(await other.register('max', { id: 2 ** 32 - 1 })).toEqual({ id: 2 ** 32 - 1, name: 'max' });
    expect(await other.lock(['v.ts'], { agent: 2 ** 32 - 1, ttl: 5_000 })).toMatchObject({ granted: true, locks: [{ expires_ms: 1_005_000 }] });
    expect(await other.check(['v.ts'], { agent: null as unknown as number })).toMatchObject({ conflicts: [{ path: 'v.ts' }] });
    expect(await other.release(['v.ts'], { agent: 2 ** 32 - 1, reason: null as unknown as string })).toMatchObject({ released: ['v.ts'] });
    // The next automatic id follows the highest chosen one.
    expect((await other.register('next')).id).toBe(2 ** 32);
  });
});
