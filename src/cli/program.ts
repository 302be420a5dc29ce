import { Command } from 'commander';
import type { Context } from '../commands/context.js';
import { erased, helpAfter, type CliCall, type CommandShape, type ErasedCommand, type GlobalOptions } from '../commands/command.js';
import { COMMANDS } from '../commands/index.js';
import { command as mcp } from '../mcp/command.js';
import type { Rendered } from '../render/text.js';
import { toJson } from '../render/json.js';
import { ENVIRONMENT, GLOBAL_OPTIONS, GLOBAL_OPTIONS_WITH_VALUE, optionName } from './globals.js';
import { cliContext } from './context.js';
import { VERSION } from '../core/version.js';
import { untilSignal, watch } from './watch.js';

/** What the process talks to; injected so the wiring can be tested without spawning. */
export interface Io {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdoutIsTty: boolean;
  /** The terminal's width, when stdout is one (default 80). */
  readonly columns?: number;
  /** How to run this very CLI (node and the script), for hooks installed on a PATH without it. */
  readonly selfCommand: readonly string[];
  writeOut(text: string): void;
  writeErr(text: string): void;
  /** The wall clock (default Date.now): injected by in-process tests, never set by the CLI itself. */
  readonly clock?: () => number;
  /** All of stdin, read when a command asks for it (`check --stdin`, `--pre-push`, `--hook`); none: empty. */
  readonly readStdin?: () => Buffer;
}

/** How one command's result is shown and which exit code it means. */
export interface Outcome<R> {
  readonly result: R;
  /** Spans in the text are counted from the result's own `now_ms` where it has one, not this process's clock. */
  readonly text: (result: R) => Rendered | Promise<Rendered>;
  /** Most commands answer 0-4; with-lock passes on its command's exit code. */
  readonly exitCode?: (result: R) => number;
  /** What --json prints, when it is not the result itself. */
  readonly json?: (result: R) => unknown;
}

/** A command with its types erased: the loop below only passes each one's values back to itself. */
type Erased = ErasedCommand;
/** Every command the CLI runs, in `--help` order: the shared ones, and `mcp` (the MCP server, src/mcp/) after `completion`. */
export const CLI_COMMANDS: readonly Erased[] = (() => {
  const shared = erased(COMMANDS);
  const at = shared.findIndex((c) => c.name === 'completion') + 1;
  return [...shared.slice(0, at), ...erased([mcp]), ...shared.slice(at)].filter((c) => c.cli !== undefined);
})();

const examples = (...lines: string[]): string => helpAfter({ examples: lines });

/** Build the commander program. `settle` receives each action's outcome (the CLI prints it). */
export function buildProgram(io: Io, settle: (outcome: Outcome<unknown>) => Promise<void>): Command {
  const program = new Command('harn-agents');
  program
    .description('A per-workspace agent registry with advisory, TTL-based per-file locks.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help');
  for (const option of GLOBAL_OPTIONS) program.option(option.flags, option.help);
  program
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      examples(
        'ID=$(harn-agents register ci)',
        'harn-agents lock src/main.ts --agent "$ID" --ttl 5m',
        'harn-agents holder src/main.ts',
        'harn-agents status',
        'harn-agents release src/main.ts --agent "$ID"',
      ) +
        '\nExit codes: 0 done, 1 the answer is no (lock refused, nothing held, a path held by another agent),\n' +
        '2 usage error or bad input, 3 state unreadable, invalid or unwritable (left untouched), 4 state lock\n' +
        "not taken in time, 5 with-lock lost its locks and stopped its command. with-lock otherwise exits with\n" +
        "its command's code. Docs: docs/cli.md.\n" +
        "After an exit 3 or 4, 'harn-agents doctor' says what is wrong and the command that fixes it.\n" +
        `Environment: ${ENVIRONMENT.join(', ')}.\n`,
    );
  // Only the command being run is built (see commandsToDefine): start-up does not construct every
  // command's options and help on every call.
  const wanted = new Set(commandsToDefine(io.argv, CLI_COMMANDS.map((c) => c.name)));
  for (const definition of CLI_COMMANDS) if (wanted.has(definition.name)) define(program, definition, io, settle);
  return program;
}

/** One command's commander definition and action, from its declaration. */
function define(program: Command, definition: Erased, io: Io, settle: (outcome: Outcome<unknown>) => Promise<void>): void {
  const cli = definition.cli as NonNullable<Erased['cli']>;
  const sub = program.command(definition.name).description(cli.description);
  if (cli.usage) sub.usage(cli.usage);
  if (cli.passThrough) sub.allowUnknownOption(!io.argv.includes('--'));
  for (const argument of cli.arguments ?? []) sub.argument(argument.name, argument.help);
  for (const option of cli.options ?? []) {
    // Values reach the use case as typed: it checks them, once for every face (core/validate.ts).
    sub.option(option.flags, option.help);
  }
  const after = helpAfter(cli);
  if (after) sub.addHelpText('after', after);
  sub.action(async (...params: unknown[]) => {
    // commander passes the declared arguments, then the options, then the command itself.
    const globals = program.opts<GlobalOptions>();
    const call: CliCall = {
      args: params.slice(0, -2),
      opts: params[params.length - 2] as Record<string, unknown>,
      globals,
      env: io.env,
      argv: io.argv,
      cwd: io.cwd,
      stdin: () => io.readStdin?.().toString('utf8') ?? '',
      selfCommand: io.selfCommand,
      commands: commandShapes,
      globalOptionNames: ['--version', ...GLOBAL_OPTIONS.map((o) => optionName(o.flags))],
    };
    const options = cli.input(call);
    const env = cli.contextEnv ? cli.contextEnv(io.env, io.cwd, options) : io.env;
    // -C wins; else a command may name the directory (an agent hook's payload cwd); else the process's.
    const from = (!globals.C && cli.contextCwd?.(options)) || io.cwd;
    const { ctx, close } = lazyContext(() => cliContext(globals, env, from, io.clock, { sessionKeeper: !cli.longLived }));
    // The store's connections go when the command is done, not when the process exits: a call run
    // in-process (tests, a tool embedding runCli) leaves nothing open behind it.
    try {
      // The view's clock is the answer's own time (`now_ms`, the registry's clock) when it has one.
      const clock = io.clock ?? Date.now;
      // Getters: asking whether stdout is a terminal creates process.stdout (Node's stream modules), which only
      // the renderers that use colour or width should pay for.
      const text = (result: unknown) =>
        definition.render(result, {
          nowMs: resultTime(result) ?? clock(),
          get color() {
            return io.stdoutIsTty && !io.env.NO_COLOR;
          },
          get terminalColumns() {
            return io.stdoutIsTty ? (io.columns ?? 80) : null;
          },
          options,
        });
      const repeatMs = cli.repeatMs?.(options);
      if (repeatMs !== undefined) {
        const signals = untilSignal();
        try {
          await watch(
            io,
            repeatMs,
            async () => {
              const result = await definition.run(ctx, options);
              if (globals.json) return { stdout: toJson(definition.json ? definition.json(result, options) : result, true), stderr: '' };
              return text(result);
            },
            signals.stop,
          );
        } finally {
          signals.dispose();
        }
        return;
      }
      const result = await definition.run(ctx, options);
      await settle({
        result,
        text,
        exitCode: definition.exitCode && ((r) => (definition.exitCode as NonNullable<Erased['exitCode']>)(r, options)),
        json: definition.json && ((r) => (definition.json as NonNullable<Erased['json']>)(r, options)),
      });
    } finally {
      await close();
    }
  });
}

/** The registry's time a result was given at (`now_ms`), if it carries one. */
function resultTime(result: unknown): number | undefined {
  const nowMs = typeof result === 'object' && result !== null ? (result as { readonly now_ms?: unknown }).now_ms : undefined;
  return typeof nowMs === 'number' && Number.isFinite(nowMs) ? nowMs : undefined;
}

/** Every command's name, options and words, from the declarations (for completion). */
function commandShapes(): readonly CommandShape[] {
  return CLI_COMMANDS.map((c) => {
    const cli = c.cli as NonNullable<Erased['cli']>;
    const words = (cli.arguments ?? []).flatMap((a) => a.words ?? []);
    return { name: c.name, options: (cli.options ?? []).map((o) => optionName(o.flags)), words: words.length ? words : undefined };
  });
}

/** A context built on first use: commands that never touch the workspace (completion) never look for one. */
function lazyContext(build: () => Context): { ctx: Context; close: () => Promise<void> } {
  let built: Context | undefined;
  const get = (): Context => (built ??= build());
  const ctx: Context = {
    get workspace() {
      return get().workspace;
    },
    get store() {
      return get().store;
    },
    get config() {
      return get().config;
    },
    get clock() {
      return get().clock;
    },
    get sleep() {
      return get().sleep;
    },
  };
  return { ctx, close: async () => built?.store.close() };
}

/**
 * The commands to define for this argv: just the one named, when it is clear which; all of them for help,
 * completion, or anything commander has to explain (no command, an unknown one, a misplaced option).
 */
export function commandsToDefine(argv: readonly string[], all: readonly string[]): readonly string[] {
  if (argv.some((a) => a === '-h' || a === '--help' || a === 'help')) return all;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return all.includes(arg) && arg !== 'completion' ? [arg] : all;
  }
  return all;
}
