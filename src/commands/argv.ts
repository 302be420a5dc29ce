import { usageError } from '../core/errors.js';
import { agentId } from '../core/validate.js';

/** The command line's words for what a command takes: agent ids and paths as typed (the faces share core/validate.ts). */

/** Parse an agent id given as text: plain decimal digits, then the library's own check (core/validate.ts). */
export function parseAgentId(text: string, what: string): number {
  const trimmed = text.trim();
  const id = /^\d{1,16}$/.test(trimmed) ? Number(trimmed) : NaN;
  // Not digits, or beyond what a number holds exactly (9007199254740993 would become ...992): refused with
  // the message the validator gives any value that is not an id, quoting the text as given.
  return agentId(Number.isSafeInteger(id) ? id : text, what);
}

/** The agent a command acts for: the argument or option if given, else HARN_AGENT_ID. */
export function resolveAgent(given: unknown, env: NodeJS.ProcessEnv, what: string): number {
  if (typeof given === 'string') return parseAgentId(given, what);
  const fromEnv = env.HARN_AGENT_ID;
  if (fromEnv !== undefined && fromEnv !== '') return parseAgentId(fromEnv, 'HARN_AGENT_ID');
  throw usageError(`no agent given: pass ${what} or set HARN_AGENT_ID`);
}

/** The agent if one is given (argument, option or HARN_AGENT_ID), else null. */
export function optionalAgent(given: unknown, env: NodeJS.ProcessEnv): number | null {
  if (given === undefined && !env.HARN_AGENT_ID) return null;
  return resolveAgent(given, env, '--agent');
}

/**
 * A path argument as typed. An empty one (`lock "$FILE"` with FILE unset) is refused in the CLI's own words,
 * before the use case would refuse it naming the library's `paths[0]`; the use case checks everything else.
 */
export function cliPath(value: string): string {
  if (value === '') throw usageError('a path must not be empty (an unset shell variable?)');
  return value;
}

/** Path arguments as commander gives them (`<path...>`), each checked by `cliPath`. */
export const cliPaths = (values: unknown): string[] => (values as string[]).map(cliPath);
