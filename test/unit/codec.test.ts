import { describe, expect, it } from 'vitest';
import { AgentRegistry, DEFAULT_CONFIG } from '../../src/core/registry.js';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError } from '../../src/store/codec.js';

// What serde_json::to_string writes for the seed's SerializedRegistry (field order as in the struct).
const SEED_FILE =
  '{"next_id":3,"agents":[{"id":2,"name":"copilot","state":"crashed","last_seen_ms":100,"edit_count":4,"locked_paths":{}},' +
  '{"id":1,"name":"editor","state":"active","last_seen_ms":1700000000000,"edit_count":0,"locked_paths":{"src/main.rs":1700000030000,"b":-5}}]}';

describe('decode + encode', () => {
  it('reads the seed layout and writes it back byte for byte (order kept)', () => {
    expect(encodeSnapshot(decodeSnapshot(SEED_FILE))).toBe(`${SEED_FILE}\n`);
  });

  it('reads serde pretty output too', () => {
    const pretty = JSON.stringify(JSON.parse(SEED_FILE), null, 2);
    expect(encodeSnapshot(decodeSnapshot(pretty))).toBe(`${SEED_FILE}\n`);
  });

  it('decodes every field', () => {
    const snap = decodeSnapshot(SEED_FILE);
    expect(snap.nextId).toBe(3);
    expect(snap.agents[1]).toMatchObject({ id: 1, name: 'editor', state: 'active', lastSeenMs: 1_700_000_000_000, editCount: 0 });
    expect([...(snap.agents[1]?.lockedPaths ?? [])]).toEqual([
      ['src/main.rs', 1_700_000_030_000],
      ['b', -5],
    ]);
  });

  it('defaults missing next_id and agents as serde(default) does, and next_id is at least 1', () => {
    const snap = decodeSnapshot('{}');
    expect(snap).toMatchObject({ nextId: 0, agents: [] });
    expect(new AgentRegistry(DEFAULT_CONFIG, snap).nextId).toBe(1);
    expect(encodeSnapshot(new AgentRegistry(DEFAULT_CONFIG, snap).snapshot())).toBe('{"next_id":1,"agents":[]}\n');
  });

  it('keeps members it does not know, at the top level and in agents', () => {
    const text = '{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{},"color":"red"}],"harn":{"v":1}}';
    expect(encodeSnapshot(decodeSnapshot(text))).toBe(`${text}\n`);
  });

  it('treats __proto__ and constructor as ordinary paths and keys (no prototype pollution)', () => {
    const text =
      '{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{"__proto__":5,"constructor":6}}],"__proto__":{"polluted":true}}';
    const snap = decodeSnapshot(text);
    expect([...(snap.agents[0]?.lockedPaths.keys() ?? [])]).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(encodeSnapshot(snap)).toBe(`${text}\n`);
  });

  it('escapes names and paths as JSON requires', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    const id = reg.register('quote " back \\ nl \n esc \u001b', 0);
    reg.tryLock(id, 'dir/ü "x".ts', 10, 0);
    const round = decodeSnapshot(encodeSnapshot(reg.snapshot()));
    expect(round.agents[0]?.name).toBe('quote " back \\ nl \n esc \u001b');
    expect(round.agents[0]?.lockedPaths.get('dir/ü "x".ts')).toBe(10);
  });
});

describe('decode rejects what it cannot fully understand', () => {
  const agent = (over: Record<string, unknown>): string =>
    JSON.stringify({ next_id: 5, agents: [{ id: 1, name: 'a', state: 'active', last_seen_ms: 0, edit_count: 0, locked_paths: {}, ...over }] });
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"next_id": 1,', /not valid JSON/],
    ['an array at the top', '[]', /top level/],
    ['null', 'null', /top level/],
    ['agents not an array', '{"agents":{}}', /agents must be an array/],
    ['next_id a string', '{"next_id":"1"}', /next_id must be an integer/],
    ['next_id negative', '{"next_id":-1}', /next_id must be at least 0/],
    ['next_id fractional', '{"next_id":1.5}', /next_id must be an integer/],
    ['next_id beyond 2^53', '{"next_id":9007199254740993}', /safe integer/],
    ['an unknown state', agent({ state: 'zombie' }), /state must be one of active, crashed, gone/],
    ['an uppercase state', agent({ state: 'Active' }), /state must be one of/],
    ['a missing field', JSON.stringify({ agents: [{ id: 1, name: 'a', state: 'active', last_seen_ms: 0, locked_paths: {} }] }), /has no "edit_count"/],
    ['a numeric name', agent({ name: 5 }), /name must be a string/],
    ['an id beyond 2^53', agent({ id: 18446744073709551615 }), /safe integer/],
    ['a negative edit count', agent({ edit_count: -1 }), /edit_count must be at least 0/],
    ['a string expiry', agent({ locked_paths: { f: '10' } }), /locked_paths\["f"\] must be an integer/],
    ['locked_paths an array', agent({ locked_paths: [] }), /locked_paths must be an object/],
    ['an agent that is not an object', '{"agents":[1]}', /agents\[0\] must be an object/],
    [
      'duplicate ids',
      '{"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}},{"id":1,"name":"b","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}}]}',
      /appears more than once/,
    ],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      expect(() => decodeSnapshot(text)).toThrow(SnapshotFormatError);
      expect(() => decodeSnapshot(text)).toThrow(message);
    });
  }
});

describe('the harn extension member', () => {
  it('carries lock reasons under "harn", which the seed layout ignores', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    const id = reg.register('a', 0);
    reg.lockAll(id, ['src/a.ts', 'docs/'], 1_000, 0, 'migrating "auth"');
    const text = encodeSnapshot(reg.snapshot());
    expect(text).toBe(
      '{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{"src/a.ts":1000,"docs/":1000}}],' +
        '"harn":{"reasons":{"1":{"src/a.ts":"migrating \\"auth\\"","docs/":"migrating \\"auth\\""}}}}\n',
    );
    const back = decodeSnapshot(text);
    expect(back.agents[0]?.lockReasons.get('docs/')).toBe('migrating "auth"');
    expect(encodeSnapshot(back)).toBe(text);
  });

  it('drops reasons for locks that are gone (as after a Rust rewrite), keeps unknown harn members', () => {
    const text = '{"next_id":2,"agents":[],"harn":{"reasons":{"1":{"f":"x"}},"future":[1]}}';
    expect(encodeSnapshot(decodeSnapshot(text))).toBe('{"next_id":2,"agents":[],"harn":{"future":[1]}}\n');
  });

  it('rejects a malformed harn member', () => {
    expect(() => decodeSnapshot('{"harn":[]}')).toThrow(/harn must be an object/);
    expect(() => decodeSnapshot('{"harn":{"reasons":{"1":{"f":5}}}}')).toThrow(/must be a string/);
  });
});
