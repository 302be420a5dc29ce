import { stateError } from '../core/errors.js';
import { AGENT_STATES, MAX_SLOTS, type Agent, type AgentMeta, type AgentProcess, type AgentSession, type AgentState, type ExtraFields, type LockTerms, type ReadonlyAgent, type ReadonlyRegistrySnapshot, type RegistrySnapshot } from '../core/registry.js';
import { lazyEmptyMap, SourcedLockMap } from '../core/lock-map.js';
import { SETTINGS, validSettingValue, type WorkspaceSettings } from '../core/settings.js';

/**
 * The JSON codec of `.harn/agents.json`, in the seed's `SerializedRegistry` layout:
 *   {"next_id":N,"agents":[{"id","name","state","last_seen_ms","edit_count","locked_paths":{path:expiry}}]}
 *
 * Data the seed's layout has no place for lives under one optional top-level member, `harn`, which a reader
 * of the seed's layout ignores (serde skips unknown fields):
 *   "harn": {"reasons": {"<agent id>": {"<path>": "<why it is locked>"}},
 *            "settings": {"agent_timeout_ms": N, "lock_ttl_ms": N, "retention_ms": N},
 *            "agents": {"<agent id>": {"timeout_ms": N, "worktree": "...", "branch": "...", "process": {"pid": N, "start": N}}},
 *            "locks": {"<agent id>": {"<path>": {"mode": "shared"} | {"slots": N}}}}
 * Every lock, whatever its kind, is in the agent's `locked_paths`; `harn.locks` only says how one is held when
 * it is not exclusive with one slot. A reader of the seed's layout sees a shared lock or a resource's slot as
 * an exclusive lock (the safe reading: never as free); a rewrite that drops `harn` makes them exclusive.
 * A Rust embedder that rewrites the file drops it: the locks stay; reasons, settings and each agent's own
 * timeout are lost (those agents then follow the default timeout).
 *
 * Decoding validates everything (a file it cannot fully understand is rejected, never half-read); members it
 * does not know are kept as raw JSON and written back, so nothing a newer writer added is lost. Duplicate
 * keys (which JSON.parse would resolve silently, last one wins) and nesting deeper than MAX_DEPTH are
 * refused. Encoding writes serde_json's compact form with the seed's field order, so a file that did not
 * change encodes to the bytes it was read from; it refuses any snapshot decoding would refuse, so no call can
 * write a file the tool then rejects.
 */

export class SnapshotFormatError extends Error {}

/** Deepest nesting of arrays and objects accepted (the layout needs 4; the rest is room for extra members). */
export const MAX_DEPTH = 1000;

const EXTENSION = 'harn';
const TOP_FIELDS = new Set(['next_id', 'agents', EXTENSION]);
const EXTENSION_FIELDS = new Set(['reasons', 'settings', 'agents', 'locks']);
const TERMS_FIELDS = new Set(['mode', 'slots']);
const META_FIELDS = new Set(['timeout_ms', 'worktree', 'branch', 'process', 'session']);
const SESSION_FIELDS = ['client', 'id', 'host'] as const;
const PROCESS_FIELDS = new Set(['pid', 'start']);
const SETTING_MEMBERS = new Set<string>(SETTINGS.map((s) => s.member));
const AGENT_FIELDS = new Set(['id', 'name', 'state', 'last_seen_ms', 'edit_count', 'locked_paths']);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new SnapshotFormatError(message);
}

function safeInteger(value: unknown, where: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(`${where} must be an integer`);
  if (!Number.isSafeInteger(value)) fail(`${where} is beyond the safe integer range (2^53-1)`);
  if (value < min) fail(`${where} must be at least ${min}`);
  return value;
}

function extraFields(object: JsonObject, known: Set<string>): ExtraFields {
  const extra: Array<readonly [string, unknown]> = [];
  for (const key of Object.keys(object)) if (!known.has(key)) extra.push([key, object[key]]);
  return extra;
}

const MIN_TIME = -Number.MAX_SAFE_INTEGER;

function decodeAgent(raw: unknown, where: string): Agent {
  if (!isObject(raw)) fail(`${where} must be an object`);
  for (const field of AGENT_FIELDS) if (!Object.hasOwn(raw, field)) fail(`${where} has no "${field}"`);
  const id = safeInteger(raw.id, `${where}.id`, 0);
  if (typeof raw.name !== 'string') fail(`${where}.name must be a string`);
  if (typeof raw.state !== 'string' || !AGENT_STATES.includes(raw.state as AgentState)) {
    fail(`${where}.state must be one of ${AGENT_STATES.join(', ')}`);
  }
  const lockedRaw = raw.locked_paths;
  if (!isObject(lockedRaw)) fail(`${where}.locked_paths must be an object`);
  const lockedPaths = new Map<string, number>();
  for (const path in lockedRaw) {
    const expiry = lockedRaw[path];
    // The message (a string per lock) is built only for a bad value: a large registry has 100,000 of these.
    if (!Number.isSafeInteger(expiry) || (expiry as number) < MIN_TIME) safeInteger(expiry, `${where}.locked_paths[${JSON.stringify(path)}]`, MIN_TIME);
    lockedPaths.set(path, expiry as number);
  }
  return {
    id,
    name: raw.name,
    state: raw.state as AgentState,
    lastSeenMs: safeInteger(raw.last_seen_ms, `${where}.last_seen_ms`, MIN_TIME),
    editCount: safeInteger(raw.edit_count, `${where}.edit_count`, 0),
    lockedPaths,
    lockReasons: new Map(),
    extra: extraFields(raw, AGENT_FIELDS),
  };
}

/** Decode and validate a state file's text. Throws `SnapshotFormatError` naming the first problem. */
export function decodeSnapshot(text: string): RegistrySnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(`not valid JSON (${(error as Error).message})`);
  }
  const agents = decodeAgentsFast(text, raw);
  if (agents) return decodeRest(raw as JsonObject, agents);
  return decodeChecked(text, raw);
}

/**
 * An agent's lock map as decoded on the fast path: its entries stay in the parsed object until used, and it
 * keeps the agent's parsed record, so an agent nothing changed is encoded by `JSON.stringify` of that record
 * (`encodeAgent`) instead of member by member.
 */
class DecodedLockMap extends SourcedLockMap {
  constructor(
    locks: Readonly<Record<string, number>>,
    /** The agent's parsed record: its members in the order `encodeAgent` writes them, then any others. */
    readonly record: JsonObject,
    /** The `extra` the decoded agent was given (an agent whose `extra` is another was changed). */
    readonly extra: ExtraFields,
  ) {
    super(locks);
  }
}

const NO_EXTRA: ExtraFields = Object.freeze([]);
const AGENT_ORDER = ['id', 'name', 'state', 'last_seen_ms', 'edit_count', 'locked_paths'] as const;

/**
 * The agents of a well-formed file in one pass over the parsed value, or undefined when anything is not as
 * expected (a bad value, a duplicate key or id, deep nesting, a \u003_ escape, agent members in another
 * order): `decodeChecked` then decodes the file, and either accepts it the same or names its first problem.
 * What it accepts is exactly what `decodeChecked` accepts, with the same agents; only their lock maps are
 * `DecodedLockMap`s, built when first iterated or changed.
 *
 * The walk does the structure check's tally (object members, colons in keys and strings) along with the
 * validation, so the parsed tree is walked once; lock expiries, nine in ten of its values, are numbers and
 * need neither.
 */
function decodeAgentsFast(text: string, raw: unknown): Agent[] | undefined {
  if (!isObject(raw) || text.indexOf('\\u003') !== -1) return undefined;
  const tally = { members: 0, colons: 0 };
  let agentsRaw: unknown = [];
  for (const key in raw) {
    tally.members++;
    if (key.indexOf(':') !== -1) tally.colons += countChar(key, ':');
    const value = raw[key];
    if (key === 'agents') agentsRaw = value;
    else if (!tallyValue(value, 2, tally)) return undefined;
  }
  if (raw.next_id !== undefined && !(Number.isSafeInteger(raw.next_id) && (raw.next_id as number) >= 0)) return undefined;
  if (!Array.isArray(agentsRaw)) return undefined;
  const agents: Agent[] = [];
  // No `*` or `?` anywhere, one `[` (the agents array) and no \u escape (which could spell one): no key is a
  // pattern (core/glob.ts), which lets a lookup skip looking for pattern locks (a native search of the text
  // instead of a test of every key).
  const noPatterns = text.indexOf('*') === -1 && text.indexOf('?') === -1 && text.indexOf('[') === text.lastIndexOf('[') && text.indexOf('\\u') === -1;
  // Ids in ascending order (as the registry writes them, mostly) cannot repeat; a set only from the first that is not.
  let lastId = -1;
  let seen: Set<number> | undefined;
  for (const record of agentsRaw as unknown[]) {
    if (!isObject(record)) return undefined;
    // Its members: the six known ones first, in the order they are written, then any others.
    let members = 0;
    for (const key in record) {
      if (members < 6) {
        if (key !== AGENT_ORDER[members]) return undefined;
      } else {
        if (key.indexOf(':') !== -1) tally.colons += countChar(key, ':');
        if (!tallyValue(record[key], 4, tally)) return undefined;
      }
      members++;
    }
    if (members < 6) return undefined;
    tally.members += members;
    const { id, name, state, last_seen_ms: lastSeenMs, edit_count: editCount, locked_paths: locks } = record;
    if (!(Number.isSafeInteger(id) && (id as number) >= 0)) return undefined;
    if (seen === undefined && (id as number) > lastId) lastId = id as number;
    else {
      seen ??= new Set(agents.map((agent) => agent.id));
      if (seen.has(id as number)) return undefined;
      seen.add(id as number);
    }
    if (typeof name !== 'string' || typeof state !== 'string' || !AGENT_STATES.includes(state as AgentState)) return undefined;
    if (name.indexOf(':') !== -1) tally.colons += countChar(name, ':');
    if (!(Number.isSafeInteger(lastSeenMs) && (lastSeenMs as number) >= MIN_TIME)) return undefined;
    if (!(Number.isSafeInteger(editCount) && (editCount as number) >= 0)) return undefined;
    if (!isObject(locks)) return undefined;
    for (const path in locks) {
      tally.members++;
      if (path.indexOf(':') !== -1) tally.colons += countChar(path, ':');
      const expiry = locks[path];
      if (!(Number.isSafeInteger(expiry) && (expiry as number) >= MIN_TIME)) return undefined;
    }
    const extra = members === 6 ? NO_EXTRA : extraFields(record, AGENT_FIELDS);
    const lockedPaths = new DecodedLockMap(locks as Record<string, number>, record, extra);
    lockedPaths.noPatterns = noPatterns;
    agents.push({
      id: id as number,
      name,
      state: state as AgentState,
      lastSeenMs: lastSeenMs as number,
      editCount: editCount as number,
      lockedPaths,
      lockReasons: lazyEmptyMap(),
      extra,
    });
  }
  // Every colon outside a string ends a member's key (see checkStructure).
  if (countChar(text, ':') - tally.colons !== tally.members) return undefined;
  return agents;
}

/**
 * The decoding every file gets when the fast path above turns it down: the structure check, then each
 * member validated in turn, stopping at the first problem with a message naming it.
 */
export function decodeChecked(text: string, raw: unknown): RegistrySnapshot {
  checkStructure(text, raw);
  if (!isObject(raw)) fail('the top level must be a JSON object');
  // Missing members default as in the seed (`#[serde(default)]`).
  if (raw.next_id !== undefined) safeInteger(raw.next_id, 'next_id', 0);
  const agentsRaw = raw.agents === undefined ? [] : raw.agents;
  if (!Array.isArray(agentsRaw)) fail('agents must be an array');
  const agents: Agent[] = [];
  const seen = new Set<number>();
  agentsRaw.forEach((entry: unknown, i: number) => {
    const agent = decodeAgent(entry, `agents[${i}]`);
    if (seen.has(agent.id)) fail(`agents[${i}].id ${agent.id} appears more than once`);
    seen.add(agent.id);
    agents.push(agent);
  });
  return decodeRest(raw, agents);
}

/** The top level around decoded agents: next_id, the `harn` member (reasons, settings, metas), unknown members. */
function decodeRest(raw: JsonObject, agents: Agent[]): RegistrySnapshot {
  const nextId = raw.next_id === undefined ? 0 : safeInteger(raw.next_id, 'next_id', 0);
  const extension = decodeExtension(raw[EXTENSION], agents);
  const { settings, settingsExtra } = decodeSettings(isObject(raw[EXTENSION]) ? raw[EXTENSION].settings : undefined);
  return { nextId, agents, extra: extraFields(raw, TOP_FIELDS), extension, settings, settingsExtra };
}

/**
 * Refuse nesting deeper than MAX_DEPTH and duplicate keys. In valid JSON every colon outside a string ends an
 * object member's key, so fewer members in the parsed value than such colons in the text means some key
 * appeared twice (re-encoding and comparing would cost about 60% of JSON.parse's time on a 10,000-agent
 * file). Colons outside strings are counted as every colon in the text less the colons in the parsed keys and
 * strings: a native search each, where scanning the text character by character cost about 15% of the
 * parse. That is exact unless a string spells a colon as an escape (\u003a); a text with any \u003_ escape,
 * or one nested too deep, is scanned character by character as before.
 */
function checkStructure(text: string, raw: unknown): void {
  const tally = { members: 0, colons: 0 };
  const shallow = tallyValue(raw, 1, tally);
  let outsideStrings: number;
  if (shallow && text.indexOf('\\u003') === -1) {
    outsideStrings = countChar(text, ':') - tally.colons;
  } else {
    const shape = textShape(text);
    if (shape.deepAt !== -1) fail(`nesting is deeper than ${MAX_DEPTH} levels (${position(text, shape.deepAt)})`);
    if (!shallow) fail(`nesting is deeper than ${MAX_DEPTH} levels`);
    outsideStrings = shape.members;
  }
  if (tally.members !== outsideStrings) fail(findDuplicate(text) ?? 'a key appears twice in one object');
}

/** How many times `char` occurs in `text`. */
function countChar(text: string, char: string): number {
  let count = 0;
  for (let i = text.indexOf(char); i !== -1; i = text.indexOf(char, i + 1)) count++;
  return count;
}

/**
 * Add a parsed value's object members, and the colons in its keys and strings, to `tally`. False (the tally
 * then incomplete) when arrays and objects nest deeper than MAX_DEPTH; `depth` is the value's own level.
 */
function tallyValue(value: unknown, depth: number, tally: { members: number; colons: number }): boolean {
  if (typeof value === 'string') {
    if (value.indexOf(':') !== -1) tally.colons += countChar(value, ':');
    return true;
  }
  if (typeof value !== 'object' || value === null) return true;
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!tallyValue(item, depth + 1, tally)) return false;
    return true;
  }
  // for-in rather than Object.keys: no array of keys per object (JSON.parse's objects inherit nothing enumerable).
  for (const key in value) {
    tally.members++;
    if (key.indexOf(':') !== -1) tally.colons += countChar(key, ':');
    if (!tallyValue((value as JsonObject)[key], depth + 1, tally)) return false;
  }
  return true;
}

/** Object members (colons outside strings) in the text, and where nesting first exceeds MAX_DEPTH (or -1). */
function textShape(text: string): { members: number; deepAt: number } {
  let members = 0;
  let depth = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const quote = text.indexOf('"', i);
    const end = quote === -1 ? n : quote;
    for (let j = i; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c === 58 /* : */) members++;
      else if (c === 123 /* { */ || c === 91 /* [ */) {
        if (++depth > MAX_DEPTH) return { members, deepAt: j };
      } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    }
    if (quote === -1) break;
    i = closingQuote(text, quote) + 1;
  }
  return { members, deepAt: -1 };
}

/** The index of the quote that closes the string opening at `open` (text.length if there is none). */
function closingQuote(text: string, open: number): number {
  for (let k = text.indexOf('"', open + 1); k !== -1; k = text.indexOf('"', k + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(k - 1 - backslashes) === 92 /* \ */) backslashes++;
    if (backslashes % 2 === 0) return k;
  }
  return text.length;
}

/** Where the first duplicate key is, as a message; run only once a duplicate is known to exist. */
function findDuplicate(text: string): string | undefined {
  interface Frame {
    readonly object: boolean;
    readonly keys: Set<string>;
    readonly where: string;
    index: number;
    key: string;
  }
  const stack: Frame[] = [];
  const member = (where: string, key: string) => (where === '' ? key : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${where}.${key}` : `${where}[${JSON.stringify(key)}]`);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      const end = closingQuote(text, i);
      let next = end + 1;
      while (next < text.length && /\s/.test(text[next] as string)) next++;
      if (top?.object && text[next] === ':') {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) {
          const where = top.where === '' ? 'at the top level' : `in ${top.where}`;
          return `duplicate key ${JSON.stringify(key)} ${where} (${position(text, i)})`;
        }
        top.keys.add(key);
        top.key = key;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      const where = top === undefined ? '' : top.object ? member(top.where, top.key) : `${top.where}[${top.index}]`;
      stack.push({ object: c === '{', keys: new Set(), where, index: 0, key: '' });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',' && top && !top.object) {
      top.index++;
    }
  }
  return undefined;
}

/** "line L, column C" of a character index, for messages. */
function position(text: string, index: number): string {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return `line ${line}, column ${index - before.lastIndexOf('\n')}`;
}

/** Read the `harn` member: attach lock reasons to their agents; keep members it does not know. */
function decodeExtension(raw: unknown, agents: readonly Agent[]): ExtraFields {
  if (raw === undefined) return [];
  if (!isObject(raw)) fail(`${EXTENSION} must be an object`);
  let agentsById: Map<string, Agent> | undefined;
  const byId = (): Map<string, Agent> => (agentsById ??= new Map(agents.map((a) => [String(a.id), a])));
  const reasons = raw.reasons;
  if (reasons !== undefined) {
    if (!isObject(reasons)) fail(`${EXTENSION}.reasons must be an object`);
    for (const id of Object.keys(reasons)) {
      const perPath = reasons[id];
      if (!isObject(perPath)) fail(`${EXTENSION}.reasons[${JSON.stringify(id)}] must be an object`);
      for (const path of Object.keys(perPath)) {
        const reason = perPath[path];
        if (typeof reason !== 'string') fail(`${EXTENSION}.reasons[${JSON.stringify(id)}][${JSON.stringify(path)}] must be a string`);
        const agent = byId().get(id);
        // A reason for a lock that is no longer there (e.g. after a Rust rewrite) is dropped.
        if (agent?.lockedPaths.has(path)) agent.lockReasons.set(path, reason);
      }
    }
  }
  const metas = raw.agents;
  if (metas !== undefined) {
    if (!isObject(metas)) fail(`${EXTENSION}.agents must be an object`);
    for (const id of Object.keys(metas)) {
      const meta = decodeMeta(metas[id], `${EXTENSION}.agents[${JSON.stringify(id)}]`);
      // What is kept about an agent that is no longer there (e.g. after a Rust rewrite) is dropped.
      const agent = byId().get(id);
      if (agent) agent.meta = meta;
    }
  }
  const locks = raw.locks;
  if (locks !== undefined) {
    if (!isObject(locks)) fail(`${EXTENSION}.locks must be an object`);
    for (const id of Object.keys(locks)) {
      const perPath = locks[id];
      const where = `${EXTENSION}.locks[${JSON.stringify(id)}]`;
      if (!isObject(perPath)) fail(`${where} must be an object`);
      for (const path of Object.keys(perPath)) {
        const terms = decodeTerms(perPath[path], `${where}[${JSON.stringify(path)}]`);
        const agent = byId().get(id);
        // Terms of a lock that is no longer there (e.g. after a Rust rewrite) are dropped.
        if (agent?.lockedPaths.has(path)) (agent.lockTerms ??= new Map()).set(path, terms);
      }
    }
  }
  return extraFields(raw, EXTENSION_FIELDS);
}

function decodeTerms(raw: unknown, where: string): LockTerms {
  if (!isObject(raw)) fail(`${where} must be an object`);
  const terms: { mode?: 'shared'; slots?: number; extra?: ExtraFields } = {};
  if (raw.mode !== undefined) {
    if (raw.mode !== 'shared' && raw.mode !== 'exclusive') fail(`${where}.mode must be "shared" or "exclusive"`);
    if (raw.mode === 'shared') terms.mode = 'shared';
  }
  if (raw.slots !== undefined) {
    terms.slots = safeInteger(raw.slots, `${where}.slots`, 1);
    if (terms.slots > MAX_SLOTS) fail(`${where}.slots must be at most ${MAX_SLOTS}`);
  }
  const extra = extraFields(raw, TERMS_FIELDS);
  if (extra.length > 0) terms.extra = extra;
  return terms;
}

function encodeTerms(agent: ReadonlyAgent): string {
  let out = '';
  for (const [path, terms] of agent.lockTerms ?? []) {
    if (!agent.lockedPaths.has(path)) continue;
    const where = `${EXTENSION}.locks["${agent.id}"][${JSON.stringify(path)}]`;
    let members = '';
    if (terms.mode !== undefined) {
      if (terms.mode !== 'shared') refuse(`${where}.mode is not "shared"`);
      members += ',"mode":"shared"';
    }
    if (terms.slots !== undefined) members += `,"slots":${integer(terms.slots, 1, () => `${where}.slots`)}`;
    members += encodeExtra(terms.extra ?? [], TERMS_FIELDS, where);
    if (members) out += `${out ? ',' : ''}${JSON.stringify(path)}:{${members.slice(1)}}`;
  }
  return out ? `"${agent.id}":{${out}}` : '';
}

function decodeMeta(raw: unknown, where: string): AgentMeta {
  if (!isObject(raw)) fail(`${where} must be an object`);
  const meta: { -readonly [K in keyof AgentMeta]: AgentMeta[K] } = {};
  if (raw.timeout_ms !== undefined) meta.timeoutMs = safeInteger(raw.timeout_ms, `${where}.timeout_ms`, 1);
  for (const member of ['worktree', 'branch'] as const) {
    const value = raw[member];
    if (value === undefined) continue;
    if (typeof value !== 'string') fail(`${where}.${member} must be a string`);
    meta[member] = value;
  }
  if (raw.process !== undefined) meta.process = decodeProcess(raw.process, `${where}.process`);
  if (raw.session !== undefined) meta.session = decodeSession(raw.session, `${where}.session`);
  const extra = extraFields(raw, META_FIELDS);
  if (extra.length > 0) meta.extra = extra;
  return meta;
}

function decodeProcess(raw: unknown, where: string): AgentProcess {
  if (!isObject(raw)) fail(`${where} must be an object`);
  const pid = safeInteger(raw.pid, `${where}.pid`, 1);
  const start = safeInteger(raw.start, `${where}.start`, 0);
  const extra = extraFields(raw, PROCESS_FIELDS);
  return extra.length > 0 ? { pid, start, extra } : { pid, start };
}

function decodeSession(raw: unknown, where: string): AgentSession {
  if (!isObject(raw)) fail(`${where} must be an object`);
  const text = (member: (typeof SESSION_FIELDS)[number]): string => {
    const value = raw[member];
    if (typeof value !== 'string') fail(`${where}.${member} must be a string`);
    return value;
  };
  return { client: text('client'), id: text('id'), host: text('host') };
}

/** `harn.settings`: known settings validated; members this version does not know kept as they were. */
function decodeSettings(raw: unknown): { settings: WorkspaceSettings; settingsExtra: ExtraFields } {
  const settings: WorkspaceSettings = {};
  if (raw === undefined) return { settings, settingsExtra: [] };
  if (!isObject(raw)) fail(`${EXTENSION}.settings must be an object`);
  for (const definition of SETTINGS) {
    const value = raw[definition.member];
    if (value === undefined) continue;
    if (!validSettingValue(definition, value)) {
      fail(`${EXTENSION}.settings.${definition.member} must be a whole number of milliseconds from ${definition.zeroAllowed ? 0 : 1} to 10 years`);
    }
    settings[definition.key] = value;
  }
  return { settings, settingsExtra: extraFields(raw, SETTING_MEMBERS) };
}

function encodeSettings(snapshot: ReadonlyRegistrySnapshot): string {
  let out = '';
  for (const definition of SETTINGS) {
    const value = snapshot.settings?.[definition.key];
    if (value === undefined) continue;
    if (!validSettingValue(definition, value)) refuse(`the setting ${definition.key} is ${String(value)}, not a valid duration`);
    out += `,"${definition.member}":${value}`;
  }
  out += encodeExtra(snapshot.settingsExtra ?? [], SETTING_MEMBERS, `${EXTENSION}.settings`);
  return out ? `"settings":{${out.slice(1)}}` : '';
}

function encodeMeta(agent: ReadonlyAgent): string {
  const meta = agent.meta;
  if (!meta) return '';
  const where = `${EXTENSION}.agents["${agent.id}"]`;
  let out = '';
  if (meta.timeoutMs !== undefined) out += `,"timeout_ms":${integer(meta.timeoutMs, 1, () => `${where}.timeout_ms`)}`;
  for (const member of ['worktree', 'branch'] as const) {
    const value = meta[member];
    if (value === undefined) continue;
    if (typeof value !== 'string') refuse(`${where}.${member} is not a string`);
    out += `,"${member}":${JSON.stringify(value)}`;
  }
  if (meta.process) {
    const { pid, start, extra } = meta.process;
    const process = `"pid":${integer(pid, 1, () => `${where}.process.pid`)},"start":${integer(start, 0, () => `${where}.process.start`)}`;
    out += `,"process":{${process}${encodeExtra(extra ?? [], PROCESS_FIELDS, `${where}.process`)}}`;
  }
  if (meta.session) {
    const session = meta.session;
    const members = SESSION_FIELDS.map((member) => {
      if (typeof session[member] !== 'string') refuse(`${where}.session.${member} is not a string`);
      return `"${member}":${JSON.stringify(session[member])}`;
    });
    out += `,"session":{${members.join(',')}}`;
  }
  out += encodeExtra(meta.extra ?? [], META_FIELDS, where);
  return out ? `"${agent.id}":{${out.slice(1)}}` : '';
}

function encodeExtension(snapshot: ReadonlyRegistrySnapshot): string {
  let reasons = '';
  for (const agent of snapshot.agents) {
    if (agent.lockReasons.size === 0) continue;
    let paths = '';
    for (const [path, reason] of agent.lockReasons) {
      if (!agent.lockedPaths.has(path)) continue;
      if (typeof reason !== 'string') refuse(`the reason of agent ${agent.id}'s lock on ${JSON.stringify(path)} is not a string`);
      paths += `${paths ? ',' : ''}${JSON.stringify(path)}:${JSON.stringify(reason)}`;
    }
    if (paths) reasons += `${reasons ? ',' : ''}"${agent.id}":{${paths}}`;
  }
  const metas = snapshot.agents.map(encodeMeta).filter(Boolean).join(',');
  const terms = snapshot.agents.map(encodeTerms).filter(Boolean).join(',');
  const members = [
    reasons ? `"reasons":{${reasons}}` : '',
    encodeSettings(snapshot),
    metas ? `"agents":{${metas}}` : '',
    terms ? `"locks":{${terms}}` : '',
    encodeExtra(snapshot.extension ?? [], EXTENSION_FIELDS, EXTENSION).slice(1),
  ].filter(Boolean);
  return members.length ? `,"${EXTENSION}":{${members.join(',')}}` : '';
}

/** Members kept from a decoded file; refused if one could not be read back (a known or repeated key). */
function encodeExtra(extra: ExtraFields, known: Set<string>, where: string): string {
  let out = '';
  const seen = extra.length > 1 ? new Set<string>() : undefined;
  for (const [key, value] of extra) {
    if (known.has(key) || seen?.has(key)) refuse(`${where} would have the key ${JSON.stringify(key)} twice`);
    seen?.add(key);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined;
    }
    if (json === undefined) refuse(`member ${JSON.stringify(key)} of ${where} is not a JSON value`);
    out += `,${JSON.stringify(key)}:${json}`;
  }
  return out;
}

/** An encoding error: the snapshot would not decode, so nothing is written. */
function refuse(problem: string): never {
  throw stateError(`refusing to write an invalid state: ${problem}; nothing was written; run \`harn-agents doctor\``);
}

/** The encoding of an integer field, if it is one decoding accepts. */
function integer(value: number, min: number, where: () => string): number {
  if (!Number.isSafeInteger(value) || value < min) refuse(`${where()} is ${String(value)}, not an integer from ${min} to 2^53-1`);
  return value;
}

function encodeAgent(agent: ReadonlyAgent, i: number): string {
  // An agent read from the file that nothing changed: its parsed record (validated when it was read, its
  // members in the order written below) stringifies to the same bytes, natively.
  const decoded = agent.lockedPaths;
  if (decoded instanceof DecodedLockMap && decoded.unchanged && agent.extra === decoded.extra) {
    const record = decoded.record;
    if (agent.id === record.id && agent.name === record.name && agent.state === record.state && agent.lastSeenMs === record.last_seen_ms && agent.editCount === record.edit_count) {
      return JSON.stringify(record);
    }
  }
  const where = `agents[${i}]`;
  let locks = '';
  for (const [path, expiry] of agent.lockedPaths) {
    if (typeof path !== 'string') refuse(`${where} has a lock path that is not a string`);
    locks += `${locks ? ',' : ''}${JSON.stringify(path)}:${integer(expiry, -Number.MAX_SAFE_INTEGER, () => `${where}.locked_paths[${JSON.stringify(path)}]`)}`;
  }
  if (typeof agent.name !== 'string') refuse(`${where}.name is not a string`);
  if (!AGENT_STATES.includes(agent.state)) refuse(`${where}.state is not one of ${AGENT_STATES.join(', ')}`);
  return (
    `{"id":${integer(agent.id, 0, () => `${where}.id`)},"name":${JSON.stringify(agent.name)},"state":"${agent.state}",` +
    `"last_seen_ms":${integer(agent.lastSeenMs, -Number.MAX_SAFE_INTEGER, () => `${where}.last_seen_ms`)},` +
    `"edit_count":${integer(agent.editCount, 0, () => `${where}.edit_count`)},"locked_paths":{${locks}}` +
    `${encodeExtra(agent.extra, AGENT_FIELDS, where)}}`
  );
}

/**
 * Encode a snapshot as serde_json's compact output (plus a final newline). Throws a HarnError (exit 3)
 * instead of producing anything `decodeSnapshot` would refuse.
 */
export function encodeSnapshot(snapshot: ReadonlyRegistrySnapshot): string {
  const seen = new Set<number>();
  const agents = snapshot.agents
    .map((agent, i) => {
      if (seen.has(agent.id)) refuse(`agent id ${agent.id} appears more than once`);
      seen.add(agent.id);
      return encodeAgent(agent, i);
    })
    .join(',');
  const nextId = integer(snapshot.nextId, 0, () => 'next_id');
  return `{"next_id":${nextId},"agents":[${agents}]${encodeExtra(snapshot.extra, TOP_FIELDS, 'the top level')}${encodeExtension(snapshot)}}\n`;
}
