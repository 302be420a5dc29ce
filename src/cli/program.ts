import { Command } from 'commander';
import { parseDuration } from '../core/durations.js';
import { ExitCode } from '../core/errors.js';
import type { Context } from '../commands/context.js';
import { check, type GuardMode } from '../commands/check.js';
import { heartbeat } from '../commands/heartbeat.js';
import { log } from '../commands/log.js';
import { hook } from '../commands/hook.js';
import { withLock } from '../commands/with-lock.js';
import { exportRegistry, importRegistry } from '../commands/transfer.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import { constants as osConstants } from 'node:os';
import { usageError } from '../core/errors.js';
import { stagedPaths, stdinPaths } from './path-sources.js';
import { holder } from '../commands/holder.js';
import { lock } from '../commands/lock.js';
import { noteEdit } from '../commands/note-edit.js';
import { reap } from '../commands/reap.js';
import { register } from '../commands/register.js';
import { release } from '../commands/release.js';
import { locksView, status, type StatusResult } from '../commands/status.js';
import { unregister } from '../commands/unregister.js';
import { toJson } from '../render/json.js';
import * as text from '../render/text.js';
import { bashCompletion, zshCompletion, type CompletionSpec } from '../render/completion.js';
import { buildContext, optionalAgent, parseAgentId, resolveAgent, type GlobalOptions } from './options.js';
import { VERSION } from './version.js';

/** What the process talks to; injected so the wiring can be tested without spawning. */
export interface Io {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdoutIsTty: boolean;
  /** How to run this very CLI (node and the script), for hooks installed on a PATH without it. */
  readonly selfCommand: readonly string[];
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/** How one command's result is shown and which exit code it means. */
interface Outcome<R> {
  readonly result: R;
  readonly text: (result: R, nowMs: number) => text.Rendered | Promise<text.Rendered>;
  /** Most commands answer 0-4; with-lock passes on its command's exit code. */
  readonly exitCode?: (result: R) => number;
  /** What --json prints, when it is not the result itself. */
  readonly json?: (result: R) => unknown;
}

const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** Build the commander program. `settle` receives each action's outcome (the CLI prints it). */
export function buildProgram(io: Io, settle: (outcome: Outcome<unknown>) => Promise<void>): Command {
  const program = new Command('harn-agents');
  let context: Context | undefined;
  const ctx = (): Context => (context ??= buildContext(program.opts<GlobalOptions>(), io.env, io.cwd));
  const run = <R>(outcome: Outcome<R>): Promise<void> => settle(outcome as Outcome<unknown>);
  const durationOption = (what: string) => (value: string) => parseDuration(value, what);

  program
    .description('A per-workspace agent registry with advisory, TTL-based per-file locks.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('-C <dir>', 'run as if started in <dir> (the workspace is found from there)')
    .option('--json', 'print one JSON document on stdout')
    .option('--lock-ttl <duration>', 'default lock TTL (env HARN_LOCK_TTL, default 30s)')
    .option('--agent-timeout <duration>', 'silence after which an agent is reaped (env HARN_AGENT_TIMEOUT, default 45s)')
    .option('--store <store>', 'where the registry lives: file (default) or a postgres:// URL (env HARN_STORE)')
    .option('--namespace <name>', 'the workspace in a shared database (env HARN_NAMESPACE; default: git remote URL or directory name)')
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
        "not taken in time. with-lock exits with its command's code. Docs: docs/cli.md.\n" +
        'Environment: HARN_AGENT_ID, HARN_WORKSPACE, HARN_STORE, HARN_NAMESPACE, HARN_LOCK_TTL, HARN_AGENT_TIMEOUT,\n' +
        'HARN_STATE_LOCK_WAIT, HARN_GUARD, HARN_DEBUG, NO_COLOR.\n',
    );

  // Each command's definition; only the one being run is built (see commandsToDefine), which keeps
  // start-up from constructing every command's options and help on every call.
  const definitions: Record<string, () => void> = {
    'register': () => {
      program
        .command('register')
        .description('register an agent and print its id alone on stdout')
        .argument('<name>', 'a human-readable name ("editor", "ci", ...)')
        .option('--id <id>', 'register under this id (replaces any agent registered under it)')
        .addHelpText('after', examples('ID=$(harn-agents register ci)', 'harn-agents register editor --id 7'))
        .action(async (name: string, opts: { id?: string }) => {
          const id = opts.id === undefined ? undefined : parseAgentId(opts.id, '--id');
          await run({ result: await register(ctx(), { name, id }), text: text.renderRegister });
        });
    },
    'heartbeat': () => {
      program
        .command('heartbeat')
        .description('mark an agent alive (an unknown id is registered as agent-<id>)')
        .argument('[id]', 'the agent (default: HARN_AGENT_ID)')
        .addHelpText('after', examples('harn-agents heartbeat 3', 'HARN_AGENT_ID=3 harn-agents heartbeat'))
        .action(async (id: string | undefined) => {
          const agent = resolveAgent(id, io.env, 'an agent id');
          await run({ result: await heartbeat(ctx(), { agent }), text: text.renderHeartbeat });
        });
    },
    'unregister': () => {
      program
        .command('unregister')
        .description('remove an agent and its locks (an unknown id is not an error)')
        .argument('<id>', 'the agent')
        .addHelpText('after', examples('harn-agents unregister "$ID"'))
        .action(async (id: string) => {
          const agent = parseAgentId(id, 'id');
          await run({ result: await unregister(ctx(), { agent }), text: text.renderUnregister });
        });
    },
    'lock': () => {
      program
        .command('lock')
        .description('lock paths for an agent, all or none; exit 1 naming the holders when refused')
        .argument('<path...>', 'files to lock, relative to the current directory or absolute inside the workspace')
        .option('--agent <id>', 'the agent taking the locks (default: HARN_AGENT_ID)')
        .option('--ttl <duration>', 'how long the locks last (default: --lock-ttl, 30s)', durationOption('--ttl'))
        .option('--wait <duration>', 'when refused, keep trying for this long', durationOption('--wait'))
        .option('--reason <text>', 'why you lock: shown to anyone the lock stops')
        .addHelpText(
          'after',
          examples(
            'harn-agents lock src/a.ts src/b.ts --agent 3 --ttl 2m',
            'harn-agents lock src/a.ts --wait 30s    # agent from HARN_AGENT_ID',
            'harn-agents lock src/api/ --agent 3 --reason "renaming the API"   # a trailing / locks the directory',
          ),
        )
        .action(async (paths: string[], opts: { agent?: string; ttl?: number; wait?: number; reason?: string }) => {
          const agent = resolveAgent(opts.agent, io.env, '--agent');
          const result = await lock(ctx(), { paths, agent, ttlMs: opts.ttl, waitMs: opts.wait, reason: opts.reason });
          await run({ result, text: text.renderLock, exitCode: (r) => (r.granted ? ExitCode.ok : ExitCode.no) });
        });
    },
    'release': () => {
      program
        .command('release')
        .description("release an agent's locks on paths (a path it does not hold is not an error)")
        .argument('<path...>', 'files to release')
        .option('--agent <id>', 'the agent releasing (default: HARN_AGENT_ID)')
        .option('--force', "break any agent's lock on exactly these paths (needs --reason; recorded in the event log)")
        .option('--reason <text>', 'why a lock is broken (with --force)')
        .addHelpText(
          'after',
          examples('harn-agents release src/a.ts --agent 3', 'harn-agents release --force src/a.ts --reason "agent 3 is stuck; ok by Ana"'),
        )
        .action(async (paths: string[], opts: { agent?: string; force?: boolean; reason?: string }) => {
          const agent = opts.force ? optionalAgent(opts.agent, io.env) : resolveAgent(opts.agent, io.env, '--agent');
          await run({ result: await release(ctx(), { paths, agent, force: opts.force, reason: opts.reason }), text: text.renderRelease });
        });
    },
    'holder': () => {
      program
        .command('holder')
        .description('show who holds each path; exit 0 when any is held, 1 when none is')
        .argument('<path...>', 'files to ask about')
        .addHelpText('after', examples('harn-agents holder src/a.ts', 'harn-agents holder src/a.ts --json'))
        .action(async (paths: string[]) => {
          const result = await holder(ctx(), { paths });
          await run({ result, text: text.renderHolder, exitCode: (r) => (r.some((p) => p.holder) ? ExitCode.ok : ExitCode.no) });
        });
    },
    'status': () => {
      program
        .command('status')
        .description('show the agents: state, last seen, edits and live locks')
        .option('--agent <id>', 'only this agent')
        .option('--path <prefix>', 'only locks on this path, under it or covering it (src/ for a directory)')
        .option('--locks', 'one row per live lock (path, holder, reason, time left), soonest expiry first')
        .option('--all', 'include crashed and gone agents that hold nothing (hidden by default)')
        .option('--watch', 'redraw every second (or --interval) until Ctrl-C')
        .option('--interval <duration>', 'with --watch: time between redraws', durationOption('--interval'))
        .addHelpText('after', examples('harn-agents status', 'harn-agents status --locks --path src/api/', 'harn-agents status --watch', 'harn-agents status --json'))
        .action(async (opts: { agent?: string; path?: string; locks?: boolean; all?: boolean; watch?: boolean; interval?: number }) => {
          const options = { agent: opts.agent === undefined ? undefined : parseAgentId(opts.agent, '--agent'), pathPrefix: opts.path, all: opts.all };
          const color = io.stdoutIsTty && !io.env.NO_COLOR;
          const render = async (r: StatusResult): Promise<text.Rendered> => {
            const tables = await import('../render/status-table.js');
            return {
              stdout: opts.locks ? tables.renderLocksTable(locksView(r), color) : tables.renderStatusTable(r, color),
              stderr: r.clock_behind_ms > 0 ? `${text.clockWarning(r.clock_behind_ms)}\n` : '',
            };
          };
          const json = (r: StatusResult) => (opts.locks ? locksView(r) : r);
          if (opts.watch) {
            await watch(io, opts.interval ?? 1_000, async () => {
              const r = await status(ctx(), options);
              if (program.opts<GlobalOptions>().json) return { stdout: toJson(json(r), true), stderr: '' };
              return render(r);
            });
            return;
          }
          const result = await status(ctx(), options);
          await run({ result, text: render, json });
        });
    },
    'reap': () => {
      program
        .command('reap')
        .description('mark agents silent for longer than --agent-timeout crashed and release their locks')
        .addHelpText('after', examples('harn-agents reap', 'harn-agents reap --agent-timeout 2m'))
        .action(async () => {
          await run({ result: await reap(ctx()), text: text.renderReap });
        });
    },
    'note-edit': () => {
      program
        .command('note-edit')
        .description('count one edit for an agent; exit 1 when the agent is not registered')
        .argument('[id]', 'the agent (default: HARN_AGENT_ID)')
        .addHelpText('after', examples('harn-agents note-edit 3'))
        .action(async (id: string | undefined) => {
          const agent = resolveAgent(id, io.env, 'an agent id');
          const result = await noteEdit(ctx(), { agent });
          await run({ result, text: text.renderNoteEdit, exitCode: (r) => (r.counted ? ExitCode.ok : ExitCode.no) });
        });
    },
    'check': () => {
      program
        .command('check')
        .description('guard: exit 1 when any path is held by an agent other than the caller, listing each conflict')
        .argument('[path...]', 'paths to check')
        .option('--staged', "check the paths staged in git's index (both names of a rename)")
        .option('--stdin', 'read paths from stdin, one per line')
        .option('-z', 'with --stdin: paths are NUL-separated (git diff --name-only -z)')
        .option('--agent <id>', 'the caller, whose own locks are no conflict (default: HARN_AGENT_ID; none: every holder counts)')
        .addHelpText(
          'after',
          examples('harn-agents check src/a.ts src/b.ts', 'harn-agents check --staged', 'git diff --name-only -z main | harn-agents check --stdin -z') +
            '\nHARN_GUARD=warn prints the conflicts but exits 0; HARN_GUARD=off skips the check.\n',
        )
        .action(async (paths: string[], opts: { staged?: boolean; stdin?: boolean; z?: boolean; agent?: string }) => {
          const guard = guardMode(io.env.HARN_GUARD);
          if (!opts.staged && !opts.stdin && paths.length === 0) throw usageError('give paths to check, or --staged, or --stdin');
          const gathered = guard === 'off' ? [] : [...(opts.staged ? stagedPaths(ctx().workspace.cwd) : []), ...(opts.stdin ? stdinPaths(opts.z === true) : [])];
          const result = await check(ctx(), { paths, gatheredPaths: gathered, agent: optionalAgent(opts.agent, io.env), guard });
          await run({ result, text: text.renderCheck, exitCode: (r) => (r.guard === 'on' && r.conflicts.length > 0 ? ExitCode.no : ExitCode.ok) });
        });
    },
    'with-lock': () => {
      program
        .command('with-lock')
        .description('run a command holding locks (like flock, with the registry); exit with its exit code')
        .usage('<path...> [options] -- <command> [args...]')
        .argument('<path-and-command...>', 'paths to lock, then -- and the command to run')
        .option('--agent <id>', 'hold the locks as this agent (default: HARN_AGENT_ID, else a transient agent)')
        .option('--ttl <duration>', 'lock TTL; renewed every third of it while the command runs', durationOption('--ttl'))
        .option('--wait <duration>', 'when refused, keep trying for this long', durationOption('--wait'))
        .option('--reason <text>', 'why the paths are locked')
        .option('-E, --conflict-exit-code <n>', 'exit code when the locks are refused (default 1), as flock -E')
        .addHelpText(
          'after',
          examples('harn-agents with-lock db/schema.sql -- ./migrate.sh up', 'harn-agents with-lock src/api/ --wait 5m -E 75 -- npm run codegen'),
        )
        .action(async (operands: string[], opts: { agent?: string; ttl?: number; wait?: number; reason?: string; conflictExitCode?: string }) => {
          const dash = io.argv.indexOf('--');
          if (dash === -1) throw usageError('put -- before the command: harn-agents with-lock <path...> -- <command> [args...]');
          const command = io.argv.slice(dash + 1);
          const paths = operands.slice(0, operands.length - command.length);
          if (paths.length === 0) throw usageError('give at least one path to lock before --');
          const conflictCode = opts.conflictExitCode === undefined ? ExitCode.no : parseExitCode(opts.conflictExitCode);
          const result = await withLock(ctx(), { paths, command, agent: optionalAgent(opts.agent, io.env), ttlMs: opts.ttl, waitMs: opts.wait, reason: opts.reason });
          await run({
            result,
            text: (r, nowMs) => (r.ran ? { stdout: '', stderr: '' } : text.renderLock(r.lock, nowMs)),
            exitCode: (r) => (r.ran ? (r.exit_code ?? 128 + signalNumber(r.signal)) : conflictCode),
          });
        });
    },
    'hook': () => {
      program
        .command('hook')
        .description('install, remove or show the git hooks that refuse commits and pushes touching locked paths')
        .argument('<action>', 'install, uninstall or status')
        .addHelpText(
          'after',
          examples('harn-agents hook install', 'harn-agents hook status', 'harn-agents hook uninstall') +
            '\npre-commit checks the staged paths, pre-push the paths changed by the commits being pushed. Honours\n' +
            'core.hooksPath and worktrees; an existing hook is kept and still runs first; uninstall restores it.\n' +
            'status exits 0 when both hooks are installed, 1 otherwise.\n',
        )
        .action(async (action: string) => {
          if (action !== 'install' && action !== 'uninstall' && action !== 'status') {
            throw usageError(`hook: unknown action '${action}' (use install, uninstall or status)`);
          }
          const result = hook(action, ctx().workspace.cwd, io.selfCommand);
          await run({
            result,
            text: text.renderHook,
            exitCode: (r) => (r.action === 'status' && r.hooks.some((h) => h.state !== 'installed') ? ExitCode.no : ExitCode.ok),
          });
        });
    },
    'completion': () => {
      program
        .command('completion')
        .description('print a shell completion script (bash or zsh)')
        .argument('<shell>', 'bash or zsh')
        .addHelpText('after', examples('source <(harn-agents completion bash)   # in ~/.bashrc', 'source <(harn-agents completion zsh)    # in ~/.zshrc'))
        .action(async (shell: string) => {
          if (shell !== 'bash' && shell !== 'zsh') throw usageError(`completion: unknown shell '${shell}' (use bash or zsh)`);
          const longs = (cmd: Command) => cmd.options.map((o) => o.long ?? o.short ?? '').filter(Boolean);
          const spec: CompletionSpec = {
            globalOptions: longs(program),
            commands: program.commands.map((c) => ({
              name: c.name(),
              options: longs(c),
              words: c.name() === 'hook' ? ['install', 'uninstall', 'status'] : c.name() === 'completion' ? ['bash', 'zsh'] : undefined,
            })),
          };
          const script = shell === 'bash' ? bashCompletion(spec) : zshCompletion(spec);
          await run({ result: { shell, script }, text: (r) => ({ stdout: r.script, stderr: '' }) });
        });
    },
    'mcp': () => {
      program
        .command('mcp')
        .description('serve the registry to AI agents over the Model Context Protocol (stdio)')
        .option('--name <name>', "the session agent's name (default: the client's name)")
        .option('--ttl <duration>', "TTL of the session's locks (default: --lock-ttl)", durationOption('--ttl'))
        .addHelpText(
          'after',
          examples('harn-agents mcp --name claude', 'harn-agents -C /path/to/repo mcp') +
            '\nRegisters one agent for the session, heartbeats it, and releases its locks and unregisters it when\n' +
            'the client disconnects. Tools: lock, release, holder, check, status, heartbeat, whoami (docs/mcp.md).\n',
        )
        .action(async (opts: { name?: string; ttl?: number }) => {
          const { serveMcp } = await import('../mcp/server.js');
          await serveMcp(ctx(), { name: opts.name, ttlMs: opts.ttl, version: VERSION });
        });
    },
    'export': () => {
      program
        .command('export')
        .description("print the registry in the seed's JSON layout (what .harn/agents.json holds)")
        .addHelpText('after', examples('harn-agents export > registry.json', 'harn-agents --store "$PG" import registry.json'))
        .action(async () => {
          const result = await exportRegistry(ctx());
          await run({ result, text: (r) => ({ stdout: r.snapshot, stderr: '' }), json: (r) => JSON.parse(r.snapshot) });
        });
    },
    'import': () => {
      program
        .command('import')
        .description('replace the registry with a snapshot in the seed layout (validated first; - reads stdin)')
        .argument('<file>', 'a snapshot written by export, or a .harn/agents.json')
        .addHelpText('after', examples('harn-agents --store postgres://db.example/harn import .harn/agents.json'))
        .action(async (file: string) => {
          const result = await importRegistry(ctx(), file);
          await run({ result, text: (r) => ({ stdout: `imported ${r.agents} agents into ${esc(r.store)}\n`, stderr: '' }) });
        });
    },
    'log': () => {
      program
        .command('log')
        .description('show the audit trail: forced releases, reaped agents and with-lock runs')
        .option('--since <duration>', 'only events this recent', durationOption('--since'))
        .addHelpText('after', examples('harn-agents log --since 1h', 'harn-agents log --json'))
        .action(async (opts: { since?: number }) => {
          await run({ result: await log(ctx(), { sinceMs: opts.since }), text: text.renderLog });
        });
    },
  };
  for (const name of commandsToDefine(io.argv, Object.keys(definitions))) definitions[name]?.();

  return program;
}

/** Redraw `frame` every `intervalMs` until SIGINT/SIGTERM; clears the screen between frames on a terminal. */
async function watch(io: Io, intervalMs: number, frame: () => Promise<text.Rendered>): Promise<void> {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let running = true;
  const onSignal = () => {
    running = false;
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    while (running) {
      const rendered = await frame();
      io.writeOut(`${io.stdoutIsTty ? '\x1b[H\x1b[2J' : ''}${rendered.stdout}${io.stdoutIsTty ? '' : '\n'}`);
      if (rendered.stderr) io.writeErr(rendered.stderr);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, intervalMs)))]);
      clearTimeout(timer);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Global options that take a value, so the value is not mistaken for the command name. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['-C', '--lock-ttl', '--agent-timeout', '--store', '--namespace']);

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

function parseExitCode(text: string): number {
  const value = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= 255)) throw usageError(`--conflict-exit-code: '${text}' is not an exit code (0-255)`);
  return value;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal && osConstants.signals[signal]) || 0;
}

function guardMode(value: string | undefined): GuardMode {
  if (value === undefined || value === '' || value === 'on') return 'on';
  if (value === 'warn' || value === 'off') return value;
  throw usageError(`HARN_GUARD must be on, warn or off (got '${value}')`);
}

export type { Outcome };
