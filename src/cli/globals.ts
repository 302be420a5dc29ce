import type { OptionSpec } from '../commands/command.js';

/** The options every command takes (before or after its name); `--json` and `-C` are handled by the CLI. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { flags: '-C <dir>', help: 'run as if started in <dir> (the workspace is found from there)' },
  { flags: '--json', help: 'print one JSON document on stdout' },
  { flags: '--lock-ttl <duration>', help: "TTL of the locks this call takes without --ttl (env HARN_LOCK_TTL; default: the workspace's lock-ttl)" },
  { flags: '--agent-timeout <duration>', help: "timeout of the agents this call creates without --timeout (env HARN_AGENT_TIMEOUT; default: the workspace's agent-timeout)" },
  { flags: '--store <store>', help: 'where the registry lives: file (default) or a postgres:// URL (env HARN_STORE)' },
  { flags: '--namespace <name>', help: 'the workspace in a shared database (env HARN_NAMESPACE; default: git remote host/path or directory name)' },
];

/** The environment variables the CLI reads, for `--help` and the docs test (docs/cli.md documents each). */
export const ENVIRONMENT: readonly string[] = [
  'HARN_AGENT_ID',
  'HARN_WORKSPACE',
  'HARN_STORE',
  'HARN_NAMESPACE',
  'HARN_LOCK_TTL',
  'HARN_AGENT_TIMEOUT',
  'HARN_STATE_LOCK_WAIT',
  'HARN_SAFE_DIRECTORIES',
  'HARN_GUARD',
  'HARN_DEBUG',
  'HARN_PG_KEEPER',
  'NO_COLOR',
];

/** An option's long name (`--lock-ttl`), or its short one when it has no long one (`-C`). */
export const optionName = (flags: string): string => {
  const names = flags.split(/[ ,|]+/).filter((w) => w.startsWith('-'));
  return names.find((n) => n.startsWith('--')) ?? names[0] ?? flags;
};

/** Global options that take a value, so the value is not mistaken for the command name. */
export const GLOBAL_OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set(
  GLOBAL_OPTIONS.filter((o) => o.flags.includes('<')).flatMap((o) => o.flags.split(/[ ,|]+/).filter((w) => w.startsWith('-'))),
);
