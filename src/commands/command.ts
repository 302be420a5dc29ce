import type { Rendered } from '../render/text.js';
import type { Context } from './context.js';

/**
 * What a command is, declared in one place (src/commands/<name>.ts): its use case, how the CLI parses it
 * and shows its result, and whether the library and the MCP server expose it. The CLI program, `--help`,
 * completion, the MCP tool list, the library's `Registry` type and the docs test are all derived from these
 * declarations (src/commands/index.ts lists them).
 */

/** Environment variables, typed without @types/node so the library's declarations stand alone. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** An AbortSignal as far as the use cases use one, typed without the DOM or @types/node libraries (as above). */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { readonly once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** One command-line option, in commander's syntax (`--ttl <duration>`, `-E, --conflict-exit-code <n>`). */
export interface OptionSpec {
  readonly flags: string;
  readonly help: string;
}

/** One positional argument, in commander's syntax (`<name>`, `[id]`, `<path...>`). */
export interface ArgumentSpec {
  readonly name: string;
  readonly help: string;
  /** The words it takes, for completion (`install uninstall status`); default: file names. */
  readonly words?: readonly string[];
}

/** The global options as parsed (before or after the command name; see src/cli/globals.ts). */
export interface GlobalOptions {
  readonly C?: string;
  readonly json?: boolean;
  readonly lockTtl?: string;
  readonly agentTimeout?: string;
  readonly store?: string;
  readonly namespace?: string;
}

/** A command's shape as completion and help need it: the other commands, for `completion`. */
export interface CommandShape {
  readonly name: string;
  readonly options: readonly string[];
  readonly words?: readonly string[];
}

/** What a CLI command's `input` gets: what commander parsed, and the process around it. */
export interface CliCall {
  /** Positional arguments, in the order declared (a variadic one is an array). */
  readonly args: readonly unknown[];
  /** The command's options by commander's camel-cased name, as typed (use cases check them). */
  readonly opts: Readonly<Record<string, unknown>>;
  readonly globals: GlobalOptions;
  readonly env: Environment;
  /** The whole command line after the program name (with-lock reads what follows `--`). */
  readonly argv: readonly string[];
  readonly cwd: string;
  /** All of stdin as text ('' when there is none), read on the first call only a command that takes it makes. */
  readonly stdin: () => string;
  /** How to run this very CLI (node and the script), for hooks installed on a PATH without it. */
  readonly selfCommand: readonly string[];
  /** Every command's name, long options and words (for `completion`). */
  readonly commands: () => readonly CommandShape[];
  readonly globalOptionNames: readonly string[];
}

/** How a result is shown to people. */
export interface View<O> {
  /** The clock the text's "expires in" is computed against. */
  readonly nowMs: number;
  /** Whether colour may be used (a terminal, and no NO_COLOR). */
  readonly color: boolean;
  /** The terminal's width in columns, or null when stdout is not a terminal (a pipe, a file). */
  readonly terminalColumns: number | null;
  readonly options: O;
}

/** The command-line face of a command. */
export interface CliFace<O> {
  /** One line for `--help`. */
  readonly description: string;
  /** Replaces commander's usage line when the default misleads (with-lock's `--`). */
  readonly usage?: string;
  /**
   * Takes a command after `--` (with-lock): without `--`, options it does not know are the command's own
   * (`sh -c`), so `input` can give the missing-`--` hint instead of commander's "unknown option".
   */
  readonly passThrough?: boolean;
  /** The process serves many calls (the MCP server) and keeps a PostgreSQL connection of its own: no session keeper. */
  readonly longLived?: boolean;
  readonly arguments?: readonly ArgumentSpec[];
  readonly options?: readonly OptionSpec[];
  /** Shell lines shown under "Examples:" in `--help`. */
  readonly examples?: readonly string[];
  /** Text after the examples (exit codes, environment the command reads). */
  readonly notes?: string;
  /** Turn what commander parsed into the use case's options; throws a usage error for bad input. */
  readonly input: (call: CliCall) => O;
  /** The environment the context is built from, when not the process's (doctor drops bad settings). */
  readonly contextEnv?: (env: Environment, cwd: string, options: O) => Environment;
  /** The directory the context is found from, when not the process's (an agent hook's payload names it). */
  readonly contextCwd?: (options: O) => string | undefined;
  /** For a command that redraws (`status --watch`): the interval, or undefined to run once. */
  readonly repeatMs?: (options: O) => number | undefined;
}

/** The MCP server's real settings, which its tool descriptions and instructions state. */
export interface McpSettings {
  /** The TTL of the session's locks (`mcp --ttl`, else `--lock-ttl`): only the bound if the server dies. */
  readonly lockTtlMs: number;
  /** The session agent's timeout: silence after which it is reaped (and its locks with it). */
  readonly agentTimeoutMs: number;
  /** The directory tool paths are relative to: the workspace root, whatever the server's directory. */
  readonly pathBase: string;
}

/** The MCP tool face: how the session's arguments become the use case's options. */
export interface McpSession extends McpSettings {
  readonly id: number;
  readonly name: string;
  /** Aborts when the client cancels this request (`notifications/cancelled`, or its own timeout). */
  readonly signal?: CancelSignal;
}

/** A JSON Schema for an object (MCP requires `type: 'object'` at the root of an `outputSchema`). */
export interface ObjectSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, unknown>>;
  readonly required?: readonly string[];
  readonly [keyword: string]: unknown;
}

/** `T`: what the tool's use case returns (the command's result, unless `run` gives the tool its own). */
export interface McpFace<O, T> {
  readonly tool: string;
  /** What the tool does, stating the server's real settings where they matter (a TTL, the path base). */
  readonly description: string | ((settings: McpSettings) => string);
  /** JSON Schema properties of the tool's arguments, and which are required. */
  readonly properties: Readonly<Record<string, unknown>> | ((settings: McpSettings) => Readonly<Record<string, unknown>>);
  readonly required?: readonly string[];
  /** MCP tool annotations: a read-only tool changes nothing; a destructive one may remove what others hold. */
  readonly readOnly: boolean;
  readonly destructive?: boolean;
  /** Arguments arrive untyped: the use case validates them (core/validate.ts). */
  readonly input: (args: Readonly<Record<string, unknown>>, session: McpSession) => O;
  /** The use case as the tool runs it, when its result differs from the CLI's (default: the command's `run`). */
  run?(ctx: Context, options: O): Promise<T>;
  /** The result as `structuredContent` (default: the result itself); it carries `now_ms`. */
  structured?(result: T): Readonly<Record<string, unknown>>;
  /** The JSON Schema `structured` matches (the server adds the session's own members, `lost_locks`). */
  readonly outputSchema: ObjectSchema;
  /** One line for the model, before the JSON ("locked src/api.ts until you release it"). */
  says(result: T, session: McpSession): string;
}

/** The library face: the method's name and how its arguments become the use case's options. `L`: what it returns. */
export interface LibraryFace<O, M extends string, A extends unknown[], L> {
  readonly method: M;
  readonly input: (...args: A) => O;
  /** The use case as the method runs it, when its result differs from the CLI's (default: the command's `run`). */
  run?(ctx: Context, options: O): Promise<L>;
}

export interface CommandDefinition<O = unknown, R = unknown, M extends string = string, A extends unknown[] = never, T = R, L = R> {
  /** The command's name on the command line (and its file's name). */
  readonly name: string;
  /** The use case: one or more store transactions. */
  readonly run: (ctx: Context, options: O) => Promise<R>;
  /** The text shown to people (`--json` prints the result, or `json` of it). */
  readonly render: (result: R, view: View<O>) => Rendered | Promise<Rendered>;
  /** The exit code a result means (default 0). */
  readonly exitCode?: (result: R, options: O) => number;
  /** What `--json` prints when it is not the result itself. */
  readonly json?: (result: R, options: O) => unknown;
  readonly cli?: CliFace<O>;
  readonly library?: LibraryFace<O, M, A, L>;
  readonly mcp?: McpFace<O, T>;
}

/** Declare a command; keeps the library method's literal name and argument types for the Registry type. */
export function defineCommand<O, R, const M extends string = never, A extends unknown[] = never, T = R, L = R>(
  definition: CommandDefinition<O, R, M, A, T, L>,
): CommandDefinition<O, R, M, A, T, L> {
  return definition;
}

/**
 * A command with its types erased, for code that only passes each one's values back to itself: the CLI's
 * loop, the MCP tool list, the library's methods. Each command's own types are checked where it is declared.
 */
export type ErasedCommand = CommandDefinition<unknown, unknown, string, unknown[], unknown, unknown>;

/** Commands as `ErasedCommand`s: the one place their types are erased. */
export const erased = (commands: readonly unknown[]): readonly ErasedCommand[] => commands as readonly ErasedCommand[];

/** The `--help` text after the options: examples and notes. */
export function helpAfter(cli: { readonly examples?: readonly string[]; readonly notes?: string }): string {
  const examples = cli.examples?.length ? `\nExamples:\n${cli.examples.map((l) => `  $ ${l}`).join('\n')}\n` : '';
  return examples + (cli.notes ? `\n${cli.notes}` : '');
}

export const nothingShown: Rendered = { stdout: '', stderr: '' };
