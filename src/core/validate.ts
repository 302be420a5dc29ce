import { MAX_DURATION_MS, parseDuration } from './durations.js';
import { usageError } from './errors.js';

/**
 * The one validation boundary: every use case checks its input here first, so the CLI, the MCP server and
 * the library refuse the same bad input with the same `HarnError` (exit code 2), whatever JavaScript type
 * arrives. Each check is a few comparisons: start-up and quiet reads stay cheap.
 *
 * `what` names the input in the message as the caller knows it ("--ttl" on the CLI, "ttl" in the library).
 */

/**
 * How a face names a use case's inputs in its messages: the library and the MCP server by their keys ("ttl",
 * "killAfter"), the command line by its flags ("--ttl", "--kill-after", or "HARN_AGENT_ID" for an agent taken
 * from it). The face passes its names along with the values as given, and the use case checks each value once,
 * here, naming it as the caller knows it: one rule and one message for every face.
 */
export type InputNames = (key: string) => string;
/** The library's and the MCP server's names: the option keys themselves. */
export const byKey: InputNames = (key) => key;

/** Highest id an agent may refer to: `next_id` must stay above every id, and JSON numbers stop at 2^53-1. */
export const MAX_AGENT_ID = Number.MAX_SAFE_INTEGER - 1;
/**
 * Highest id a call may choose (`register --id`, or a heartbeat or lock for an unknown id, which registers
 * it). Chosen ids can push `next_id` only to 2^32; from there automatic ids would need some 2^53 further
 * registrations to run out, so no valid call can exhaust registration. Agents with larger ids (written by
 * another tool) are still read and can be referred to.
 */
export const MAX_CHOSEN_ID = 2 ** 32 - 1;
export const MAX_NAME_LENGTH = 256;
export const MAX_REASON_LENGTH = 1024;
/**
 * A lock path's stored form (workspace-relative, UTF-8) is at most this many bytes, on every face and both
 * stores: well under PostgreSQL's btree entry limit (about 2,700 bytes) with the namespace beside it, and
 * far above any real repository's paths.
 */
export const MAX_PATH_BYTES = 1024;
/** A PostgreSQL namespace (`--namespace`, or one derived from the git remote) is at most this many bytes. */
export const MAX_NAMESPACE_BYTES = 512;

/** A value as a message shows it: strings quoted, other types named. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

const absent = (value: unknown): value is null | undefined => value === undefined || value === null;

/** An agent to refer to: a whole number from 0 to 2^53-2. */
export function agentId(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_AGENT_ID) {
    throw usageError(`${what}: ${describeValue(value)} is not an agent id (a whole number from 0 to ${MAX_AGENT_ID})`);
  }
  return value;
}

/** An agent id, or null when none is given. */
export function optionalAgentId(value: unknown, what: string): number | null {
  return absent(value) ? null : agentId(value, what);
}

/** An id a call chooses to register an agent under: 0 to 2^32-1 (see MAX_CHOSEN_ID). */
export function chosenAgentId(value: unknown, what: string): number {
  const id = agentId(value, what);
  if (id > MAX_CHOSEN_ID) throw chosenIdError(id, what);
  return id;
}

export function optionalChosenAgentId(value: unknown, what: string): number | undefined {
  return absent(value) ? undefined : chosenAgentId(value, what);
}

export const chosenIdError = (id: number, what: string) =>
  usageError(`${what}: ${id} is beyond the ids an agent can be registered under (0 to ${MAX_CHOSEN_ID}); leave the id out to get the next free one`);

/** An agent's name: a non-empty string of at most MAX_NAME_LENGTH characters. */
export function agentName(value: unknown, what: string): string {
  if (typeof value !== 'string') throw usageError(`${what} must be a string; got ${describeValue(value)}`);
  if (value.length === 0) throw usageError(`${what} must not be empty`);
  if (value.length > MAX_NAME_LENGTH) throw usageError(`${what} is longer than ${MAX_NAME_LENGTH} characters`);
  return value;
}

/** Why something is locked or broken: absent, or a string with some text, at most MAX_REASON_LENGTH long. */
export function optionalReason(value: unknown, what: string): string | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'string') throw usageError(`${what} must be a string; got ${describeValue(value)}`);
  if (value.trim() === '') throw usageError(`${what} must not be empty`);
  if (value.length > MAX_REASON_LENGTH) throw usageError(`${what} is longer than ${MAX_REASON_LENGTH} characters`);
  return value;
}

/** One path as a user gives it: a non-empty string without NUL (normalising it is `paths.ts`'s job). */
export function pathText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw usageError(`${what} must be a string; got ${describeValue(value)}`);
  if (value.length === 0) throw usageError(`${what} must not be empty`);
  if (value.includes('\0')) throw usageError(`${what} must not contain a NUL byte`);
  return value;
}

/** Paths to act on: an array of path strings; at least one unless `allowEmpty`. */
export function pathList(value: unknown, what: string, allowEmpty = false): readonly string[] {
  if (!Array.isArray(value) || (value.length === 0 && !allowEmpty)) {
    throw usageError(`${what} must be a non-empty array of strings; got ${Array.isArray(value) ? 'an empty array' : describeValue(value)}`);
  }
  for (let i = 0; i < value.length; i++) pathText(value[i], `${what}[${i}]`);
  return value as readonly string[];
}

/**
 * A duration: a string as users type it ("1500ms", "30s", "5m") or a number of milliseconds; either way a
 * whole number of ms from 1 to 10 years.
 */
export function duration(value: unknown, what: string): number {
  if (typeof value === 'string') return parseDuration(value, what);
  if (typeof value !== 'number') throw usageError(`${what} must be a duration ("30s", "5m") or a number of milliseconds; got ${describeValue(value)}`);
  if (!Number.isFinite(value)) throw usageError(`${what}: ${value} is not a duration`);
  if (value <= 0) throw usageError(`${what}: the duration must be greater than zero (got ${value})`);
  if (!Number.isInteger(value)) throw usageError(`${what}: ${value} is not a whole number of milliseconds`);
  if (value > MAX_DURATION_MS) throw usageError(`${what}: ${value} is longer than the maximum of 10 years`);
  return value;
}

export function optionalDuration(value: unknown, what: string): number | undefined {
  return absent(value) ? undefined : duration(value, what);
}

export function optionalFlag(value: unknown, what: string): boolean | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'boolean') throw usageError(`${what} must be true or false; got ${describeValue(value)}`);
  return value;
}

export function optionalString(value: unknown, what: string): string | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'string') throw usageError(`${what} must be a string; got ${describeValue(value)}`);
  return value;
}

/** An options argument: absent (no options) or a plain object. */
export function optionsObject(value: unknown, what: string): Readonly<Record<string, unknown>> {
  if (absent(value)) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw usageError(`${what} must be an object; got ${describeValue(value)}`);
  return value as Record<string, unknown>;
}
