import path from 'node:path';
import { parseDuration } from '../core/durations.js';
import { usageError } from '../core/errors.js';
import { checkStore } from '../store/store-factory.js';
import { realDirectory } from '../store/workspace.js';
import { parseAgentId } from './argv.js';
import type { Environment } from './command.js';

/**
 * The HARN_* variables a call reads, each parsed by one function here: the CLI's context (argv.ts), `check`
 * (HARN_GUARD) and `doctor`, which runs the same parsers to say which variable would make a call fail and
 * how. An unset or empty variable is not given.
 */

/** What `check` does with a conflict: refuse (on, the default), only warn, or not look (off). */
export type GuardMode = 'on' | 'warn' | 'off';

const given = (value: string | undefined): value is string => value !== undefined && value !== '';

export function guardMode(value: string | undefined): GuardMode {
  if (!given(value) || value === 'on') return 'on';
  if (value === 'warn' || value === 'off') return value;
  throw usageError(`HARN_GUARD must be on, warn or off (got '${value}')`);
}

/** A duration variable (HARN_LOCK_TTL, HARN_AGENT_TIMEOUT, HARN_STATE_LOCK_WAIT) in ms, if given. */
export function envDuration(env: Environment, name: string): number | undefined {
  const value = env[name];
  return given(value) ? parseDuration(value, name) : undefined;
}

/** HARN_STORE, if given: `file` or a postgres:// URL (refused with the URL's password hidden). */
export function envStore(env: Environment): string | undefined {
  const value = env.HARN_STORE;
  if (!given(value)) return undefined;
  checkStore(value, 'HARN_STORE');
  return value;
}

/** HARN_PG_KEEPER: whether a CLI call on PostgreSQL borrows a session from the session keeper (on by default). */
export function keeperEnabled(value: string | undefined): boolean {
  if (!given(value) || value === 'on') return true;
  if (value === 'off') return false;
  throw usageError(`HARN_PG_KEEPER must be on or off (got '${value.slice(0, 40)}')`);
}

/** Each variable that can make a call fail, and how a call parses it. */
export const PARSED_VARIABLES: ReadonlyArray<readonly [string, (value: string, cwd: string) => unknown]> = [
  ['HARN_LOCK_TTL', (v) => parseDuration(v, 'HARN_LOCK_TTL')],
  ['HARN_AGENT_TIMEOUT', (v) => parseDuration(v, 'HARN_AGENT_TIMEOUT')],
  ['HARN_STATE_LOCK_WAIT', (v) => parseDuration(v, 'HARN_STATE_LOCK_WAIT')],
  ['HARN_PG_KEEPER', (v) => keeperEnabled(v)],
  ['HARN_AGENT_ID', (v) => parseAgentId(v, 'HARN_AGENT_ID')],
  ['HARN_GUARD', (v) => guardMode(v)],
  ['HARN_STORE', (v) => checkStore(v, 'HARN_STORE')],
  ['HARN_WORKSPACE', (v, cwd) => realDirectory(path.resolve(cwd, v), 'HARN_WORKSPACE')],
];
