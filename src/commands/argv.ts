import { usageError } from '../core/errors.js';
import { agentId, type InputNames } from '../core/validate.js';

/**
 * The command line's words for what a command takes: agent ids, numbers and paths as typed. They translate
 * text and name it; the checks are the use cases' own (core/validate.ts), which every face shares.
 */

/** The command line's names for a use case's inputs: `--kebab-case` flags, save the ones given in `as`. */
export function flagNames(as: Readonly<Record<string, string>> = {}): InputNames {
  return (key) => as[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * A whole number as typed (`--slots 2`): plain decimal digits become the number; anything else is passed on
 * as the text, which the use case's check refuses, quoting it.
 */
export function wholeNumberText(text: string | undefined): number | string | undefined {
  return text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : text;
}

/**
 * An agent id as typed: plain decimal digits become the number; anything else, or digits beyond what a
 * number holds exactly (9007199254740993 would become ...992), stays the text, which the validator refuses
 * as it refuses any value that is not an id, quoting the text as given.
 */
export function agentIdText(text: string): number | string {
  const trimmed = text.trim();
  const id = /^\d{1,16}$/.test(trimmed) ? Number(trimmed) : NaN;
  return Number.isSafeInteger(id) ? id : text;
}

/** Parse an agent id given as text (`agentIdText`), checked by the library's own rule (core/validate.ts). */
export function parseAgentId(text: string, what: string): number {
  return agentId(agentIdText(text), what);
}

/** An agent as the command line gives it: the id as typed (`agentIdText`), and its name in a refusal. */
export interface GivenAgent {
  readonly agent: number | string;
  /** The argument or option it came from (`--agent`), or HARN_AGENT_ID. */
  readonly name: string;
}

/**
 * The agent a command acts for, as typed: the argument or option if given, else HARN_AGENT_ID. The use case
 * checks it, under `name`.
 */
export function givenAgent(given: unknown, env: NodeJS.ProcessEnv, what: string): GivenAgent {
  if (typeof given === 'string') return { agent: agentIdText(given), name: what };
  const fromEnv = env.HARN_AGENT_ID;
  if (fromEnv !== undefined && fromEnv !== '') return { agent: agentIdText(fromEnv), name: 'HARN_AGENT_ID' };
  throw usageError(`no agent given: pass ${what} or set HARN_AGENT_ID`);
}

/** The agent if one is given (option or HARN_AGENT_ID), as `givenAgent`; else null, named as the option. */
export function optionalGivenAgent(given: unknown, env: NodeJS.ProcessEnv, what = '--agent'): { readonly agent: number | string | null; readonly name: string } {
  if (given === undefined && !env.HARN_AGENT_ID) return { agent: null, name: what };
  return givenAgent(given, env, what);
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
