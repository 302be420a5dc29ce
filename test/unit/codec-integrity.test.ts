import { describe, expect, it } from 'vitest';
import { isHarnError } from '../../src/core/errors.js';
import { AgentRegistry, DEFAULT_CONFIG, type Agent, type RegistrySnapshot } from '../../src/core/registry.js';
import { decodeSnapshot, encodeSnapshot, MAX_DEPTH, SnapshotFormatError } from '../../src/store/codec.js';

const AGENT = '{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{"a.ts":5}}';

describe('decode refuses duplicate keys (JSON.parse would keep the last one silently)', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['next_id twice', '{"next_id":1,"next_id":2,"agents":[]}', /duplicate key "next_id" at the top level \(line 1, column 14\)/],
    ['agents twice (a live lock would vanish)', `{"next_id":2,"agents":[${AGENT}],"agents":[]}`, /duplicate key "agents" at the top level/],
    ['an agent member twice', AGENT.replace('"name":"a"', '"name":"a","name":"b"').replace(/^/, '{"agents":[') + ']}', /duplicate key "name" in agents\[0\]/],
    ['a locked path twice', `{"agents":[${AGENT.replace('"a.ts":5', '"a.ts":5,"b":1,"a.ts":9')}]}`, /duplicate key "a\.ts" in agents\[0\]\.locked_paths/],
    ['the same key spelt with an escape', '{"next_id":1,"next\\u005fid":2}', /duplicate key "next_id" at the top level/],
    ['a reason twice', `{"agents":[${AGENT}],"harn":{"reasons":{"1":{"a.ts":"x","a.ts":"y"}}}}`, /duplicate key "a\.ts" in harn\.reasons\["1"\]/],
    ['inside an unknown member', '{"x":[{"k":1},{"k":1,"k":2}]}', /duplicate key "k" in x\[1\]/],
    ['in pretty-printed text, spaces before the colon', '{\n  "next_id" : 1,\n  "next_id" : 2\n}', /duplicate key "next_id" at the top level \(line 3, column 3\)/],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      expect(() => decodeSnapshot(text)).toThrow(SnapshotFormatError);
      expect(() => decodeSnapshot(text)).toThrow(message);
    });
  }

  it('is not fooled by colons, braces, quotes and backslashes inside strings', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    const id = reg.register('name ":{[ with \\" tricks \\', 0);
    for (const path of ['c:/x', '{a}:[b]', 'q"uote', 'back\\', 'back\\\\"', '":', '\\":']) reg.lockAll(id, [path], 10, 0, `why: "${path}"`);
    const text = encodeSnapshot(reg.snapshot());
    expect(encodeSnapshot(decodeSnapshot(text))).toBe(text);
    const pretty = JSON.stringify(JSON.parse(text), null, 2);
    expect(encodeSnapshot(decodeSnapshot(pretty))).toBe(text);
  });
});

describe('duplicate detection counts colons in the text less those in the parsed strings', () => {
  it('accepts a colon spelt as an escape, which is in the parsed string but not in the text', () => {
    for (const text of ['{"next_id":1,"agents":[],"x":"a\\u003ab"}', '{"next_id":1,"agents":[],"x\\u003A":["\\u003a:"]}']) {
      expect(decodeSnapshot(text).extra).toHaveLength(1);
    }
  });
  it('still finds a duplicate next to such an escape, or next to colons in keys and strings', () => {
    expect(() => decodeSnapshot('{"next_id":1,"agents":[],"x":"a\\u003ab","next_id":2}')).toThrow(/duplicate key "next_id" at the top level/);
    expect(() => decodeSnapshot('{"a:b":"c:d","e":{"f:":":","f:":1}}')).toThrow(/duplicate key "f:" in e/);
  });
});

describe('decode refuses absurd nesting with a message, not a stack overflow', () => {
  const prefix = '{"next_id":1,"agents":[],"x":';
  const nested = (levels: number) => `${prefix}${'['.repeat(levels)}${']'.repeat(levels)}}`;
  it('accepts nesting up to the limit and keeps it', () => {
    const text = nested(MAX_DEPTH - 1);
    expect(encodeSnapshot(decodeSnapshot(text))).toBe(`${text}\n`);
  });
  for (const levels of [MAX_DEPTH, 6_000, 200_000]) {
    it(`${levels + 1} levels`, () => {
      // The top-level object is the first level: the bracket that goes one past the limit is named.
      const column = prefix.length + MAX_DEPTH;
      expect(() => decodeSnapshot(nested(levels))).toThrow(`nesting is deeper than ${MAX_DEPTH} levels (line 1, column ${column})`);
    });
  }
});

describe('encode refuses any snapshot decode would refuse (nothing invalid is ever written)', () => {
  const agent = (over: Partial<Record<keyof Agent, unknown>> = {}): Agent =>
    ({ id: 1, name: 'a', state: 'active', lastSeenMs: 0, editCount: 0, lockedPaths: new Map([['a.ts', 5]]), lockReasons: new Map(), extra: [], ...over }) as Agent;
  const snap = (over: Partial<Record<keyof RegistrySnapshot, unknown>> = {}): RegistrySnapshot =>
    ({ nextId: 2, agents: [agent()], extra: [], ...over }) as RegistrySnapshot;
  const cases: Array<[string, RegistrySnapshot, RegExp]> = [
    ['next_id NaN', snap({ nextId: NaN }), /next_id is NaN/],
    ['next_id a string', snap({ nextId: '7' }), /next_id is 7, not an integer/],
    ['next_id beyond 2^53-1', snap({ nextId: 2 ** 53 }), /next_id is 9007199254740992/],
    ['next_id negative', snap({ nextId: -1 }), /next_id is -1/],
    ['an id NaN', snap({ agents: [agent({ id: NaN })] }), /agents\[0\]\.id is NaN/],
    ['an id fractional', snap({ agents: [agent({ id: 1.5 })] }), /agents\[0\]\.id is 1\.5/],
    ['an id a string', snap({ agents: [agent({ id: '3' })] }), /agents\[0\]\.id is 3/],
    ['last_seen_ms beyond 2^53-1', snap({ agents: [agent({ lastSeenMs: 2 ** 53 + 2 })] }), /agents\[0\]\.last_seen_ms is 9007199254740994/],
    ['last_seen_ms Infinity', snap({ agents: [agent({ lastSeenMs: Infinity })] }), /last_seen_ms is Infinity/],
    ['an expiry beyond 2^53-1', snap({ agents: [agent({ lockedPaths: new Map([['a.ts', 2 ** 53 + 30_000]]) })] }), /locked_paths\["a\.ts"\] is 9007199254770992/],
    ['an expiry NaN', snap({ agents: [agent({ lockedPaths: new Map([['a.ts', NaN]]) })] }), /locked_paths\["a\.ts"\] is NaN/],
    ['a negative edit count', snap({ agents: [agent({ editCount: -1 })] }), /edit_count is -1/],
    ['an unknown state', snap({ agents: [agent({ state: 'zombie' })] }), /state is not one of/],
    ['a name that is not a string', snap({ agents: [agent({ name: 5 })] }), /name is not a string/],
    ['an id twice', snap({ agents: [agent(), agent()] }), /agent id 1 appears more than once/],
    ['a kept member that clashes with a field', snap({ agents: [agent({ extra: [['id', 2]] })] }), /would have the key "id" twice/],
    ['a kept member that is not JSON', snap({ extra: [['x', undefined]] }), /member "x" of the top level is not a JSON value/],
    ['a reason that is not a string', snap({ agents: [agent({ lockReasons: new Map([['a.ts', 5]]) })] }), /reason .* is not a string/],
  ];
  for (const [what, snapshot, message] of cases) {
    it(what, () => {
      let error: unknown;
      try {
        encodeSnapshot(snapshot);
      } catch (e) {
        error = e;
      }
      expect(isHarnError(error) ? error.exitCode : error).toBe(3);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/nothing was written; run `harn-agents doctor`$/);
    });
  }

  it('encodes the extreme values decode accepts', () => {
    const text = encodeSnapshot(
      snap({ nextId: Number.MAX_SAFE_INTEGER, agents: [agent({ id: Number.MAX_SAFE_INTEGER - 1, lastSeenMs: -Number.MAX_SAFE_INTEGER, lockedPaths: new Map([['a', Number.MAX_SAFE_INTEGER]]) })] }),
    );
    expect(encodeSnapshot(decodeSnapshot(text))).toBe(text);
  });
});
