import { AGENT_STATES, type Agent, type AgentState, type ExtraFields, type RegistrySnapshot } from '../core/registry.js';

/**
 * The JSON codec of `.harn/agents.json`, in the seed's `SerializedRegistry` layout:
 *   {"next_id":N,"agents":[{"id","name","state","last_seen_ms","edit_count","locked_paths":{path:expiry}}]}
 *
 * Data the seed's layout has no place for lives under one optional top-level member, `harn`, which a reader
 * of the seed's layout ignores (serde skips unknown fields):
 *   "harn": {"reasons": {"<agent id>": {"<path>": "<why it is locked>"}}}
 * A Rust embedder that rewrites the file drops it: the locks stay, their reasons are lost.
 *
 * Decoding validates everything (a file it cannot fully understand is rejected, never half-read); members it
 * does not know are kept as raw JSON and written back, so nothing a newer writer added is lost. Encoding
 * writes serde_json's compact form with the seed's field order, so a file that did not change encodes to the
 * bytes it was read from.
 */

export class SnapshotFormatError extends Error {}

const EXTENSION = 'harn';
const TOP_FIELDS = new Set(['next_id', 'agents', EXTENSION]);
const EXTENSION_FIELDS = new Set(['reasons']);
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
  for (const path of Object.keys(lockedRaw)) {
    lockedPaths.set(path, safeInteger(lockedRaw[path], `${where}.locked_paths[${JSON.stringify(path)}]`, -Number.MAX_SAFE_INTEGER));
  }
  return {
    id,
    name: raw.name,
    state: raw.state as AgentState,
    lastSeenMs: safeInteger(raw.last_seen_ms, `${where}.last_seen_ms`, -Number.MAX_SAFE_INTEGER),
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
  if (!isObject(raw)) fail('the top level must be a JSON object');
  // Missing members default as in the seed (`#[serde(default)]`).
  const nextId = raw.next_id === undefined ? 0 : safeInteger(raw.next_id, 'next_id', 0);
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
  const extension = decodeExtension(raw[EXTENSION], agents);
  return { nextId, agents, extra: extraFields(raw, TOP_FIELDS), extension };
}

/** Read the `harn` member: attach lock reasons to their agents; keep members it does not know. */
function decodeExtension(raw: unknown, agents: readonly Agent[]): ExtraFields {
  if (raw === undefined) return [];
  if (!isObject(raw)) fail(`${EXTENSION} must be an object`);
  const reasons = raw.reasons;
  if (reasons !== undefined) {
    if (!isObject(reasons)) fail(`${EXTENSION}.reasons must be an object`);
    const byId = new Map(agents.map((a) => [String(a.id), a]));
    for (const id of Object.keys(reasons)) {
      const perPath = reasons[id];
      if (!isObject(perPath)) fail(`${EXTENSION}.reasons[${JSON.stringify(id)}] must be an object`);
      for (const path of Object.keys(perPath)) {
        const reason = perPath[path];
        if (typeof reason !== 'string') fail(`${EXTENSION}.reasons[${JSON.stringify(id)}][${JSON.stringify(path)}] must be a string`);
        const agent = byId.get(id);
        // A reason for a lock that is no longer there (e.g. after a Rust rewrite) is dropped.
        if (agent?.lockedPaths.has(path)) agent.lockReasons.set(path, reason);
      }
    }
  }
  return extraFields(raw, EXTENSION_FIELDS);
}

function encodeExtension(snapshot: RegistrySnapshot): string {
  let reasons = '';
  for (const agent of snapshot.agents) {
    let paths = '';
    for (const [path, reason] of agent.lockReasons) {
      if (agent.lockedPaths.has(path)) paths += `${paths ? ',' : ''}${JSON.stringify(path)}:${JSON.stringify(reason)}`;
    }
    if (paths) reasons += `${reasons ? ',' : ''}"${agent.id}":{${paths}}`;
  }
  const members = [reasons ? `"reasons":{${reasons}}` : '', encodeExtra(snapshot.extension ?? []).slice(1)].filter(Boolean);
  return members.length ? `,"${EXTENSION}":{${members.join(',')}}` : '';
}

function encodeExtra(extra: ExtraFields): string {
  let out = '';
  for (const [key, value] of extra) out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return out;
}

function encodeAgent(agent: Agent): string {
  let locks = '';
  for (const [path, expiry] of agent.lockedPaths) locks += `${locks ? ',' : ''}${JSON.stringify(path)}:${expiry}`;
  return (
    `{"id":${agent.id},"name":${JSON.stringify(agent.name)},"state":"${agent.state}",` +
    `"last_seen_ms":${agent.lastSeenMs},"edit_count":${agent.editCount},"locked_paths":{${locks}}` +
    `${encodeExtra(agent.extra)}}`
  );
}

/** Encode a snapshot as serde_json's compact output (plus a final newline). */
export function encodeSnapshot(snapshot: RegistrySnapshot): string {
  const agents = snapshot.agents.map(encodeAgent).join(',');
  return `{"next_id":${snapshot.nextId},"agents":[${agents}]${encodeExtra(snapshot.extra)}${encodeExtension(snapshot)}}\n`;
}
