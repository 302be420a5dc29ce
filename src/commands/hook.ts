import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stateError, usageError } from '../core/errors.js';

/**
 * `harn-agents hook install | uninstall | status`: git hooks that run the guard. pre-commit checks the
 * staged paths; pre-push checks the paths changed by the commits being pushed. A hook that was there before
 * is kept (renamed `<hook>.harn-previous`) and still runs first; uninstall puts it back exactly.
 */

export const HOOK_NAMES = ['pre-commit', 'pre-push'] as const;
const MARKER = '# harn-agents hook v1';
const PREVIOUS = '.harn-previous';

export type HookState = 'installed' | 'absent' | 'foreign';

export interface HookStatus {
  readonly name: string;
  readonly state: HookState;
  /** Whether a hook that was there before is kept beside ours. */
  readonly previous: boolean;
}

export interface HookResult {
  readonly action: 'install' | 'uninstall' | 'status';
  readonly hooks_dir: string;
  readonly hooks: readonly HookStatus[];
  /** What the action did, one line per hook. */
  readonly changes: readonly string[];
}

/** The hooks directory git uses here: honours core.hooksPath and works in linked worktrees. */
function hooksDir(cwd: string): string {
  const result = spawnSync('git', ['rev-parse', '--git-path', 'hooks'], { cwd, encoding: 'utf8' });
  if (result.error) throw usageError(`cannot run git: ${result.error.message}`);
  if (result.status !== 0) throw usageError(`not in a git repository (${cwd})`);
  return path.resolve(cwd, result.stdout.trim());
}

const shellQuote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/** The hook script. `cli` is how to run harn-agents when it is not on PATH (this very installation). */
export function hookScript(name: (typeof HOOK_NAMES)[number], cli: readonly string[]): string {
  const head = [
    '#!/bin/sh',
    MARKER,
    `# ${name}: refuses when a path is locked by another agent (harn-agents check).`,
    '# Installed by `harn-agents hook install`; `harn-agents hook uninstall` restores what was here before.',
    '# HARN_GUARD=warn only warns; HARN_GUARD=off skips the check.',
    'run_harn() {',
    '  if [ -n "${HARN_AGENTS_BIN:-}" ]; then "$HARN_AGENTS_BIN" "$@"',
    '  elif command -v harn-agents >/dev/null 2>&1; then harn-agents "$@"',
    `  else ${cli.map(shellQuote).join(' ')} "$@"; fi`,
    '}',
    `previous="$(dirname "$0")/${name}${PREVIOUS}"`,
  ];
  if (name === 'pre-commit') {
    return [...head, 'if [ -x "$previous" ]; then "$previous" "$@" || exit $?; fi', 'run_harn check --staged', ''].join('\n');
  }
  return [
    ...head,
    'input=$(cat)',
    'if [ -x "$previous" ]; then printf \'%s\\n\' "$input" | "$previous" "$@" || exit $?; fi',
    "printf '%s\\n' \"$input\" | while read -r local_ref local_sha remote_ref remote_sha; do",
    '  case "$local_sha" in *[!0]*) ;; *) continue ;; esac   # deleting a ref: nothing to check',
    '  case "$remote_sha" in',
    '    *[!0]*) git log --format= --name-only --no-renames -z "$remote_sha..$local_sha" ;;',
    '    *) git log --format= --name-only --no-renames -z "$local_sha" --not --remotes ;;',
    '  esac',
    'done | run_harn check --stdin -z',
    '',
  ].join('\n');
}

function isOurs(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').includes(MARKER);
  } catch {
    return false;
  }
}

function statusOf(dir: string): HookStatus[] {
  return HOOK_NAMES.map((name) => {
    const file = path.join(dir, name);
    const state: HookState = !fs.existsSync(file) ? 'absent' : isOurs(file) ? 'installed' : 'foreign';
    return { name, state, previous: fs.existsSync(file + PREVIOUS) };
  });
}

export function hook(action: HookResult['action'], cwd: string, cli: readonly string[]): HookResult {
  const dir = hooksDir(cwd);
  const changes: string[] = [];
  try {
    if (action === 'install') {
      fs.mkdirSync(dir, { recursive: true });
      for (const name of HOOK_NAMES) {
        const file = path.join(dir, name);
        const script = hookScript(name, cli);
        if (isOurs(file)) {
          if (fs.readFileSync(file, 'utf8') !== script) fs.writeFileSync(file, script, { mode: 0o755 });
          changes.push(`${name}: already installed`);
          continue;
        }
        if (fs.existsSync(file)) {
          if (fs.existsSync(file + PREVIOUS)) throw usageError(`${file}${PREVIOUS} already exists; move it away first so nothing is overwritten`);
          fs.renameSync(file, file + PREVIOUS);
          changes.push(`${name}: installed; the existing hook is kept as ${name}${PREVIOUS} and still runs first`);
        } else {
          changes.push(`${name}: installed`);
        }
        fs.writeFileSync(file, script, { mode: 0o755 });
        fs.chmodSync(file, 0o755);
      }
    } else if (action === 'uninstall') {
      for (const name of HOOK_NAMES) {
        const file = path.join(dir, name);
        if (!isOurs(file)) {
          changes.push(`${name}: ${fs.existsSync(file) ? 'not ours; left alone' : 'not installed'}`);
          continue;
        }
        fs.rmSync(file);
        if (fs.existsSync(file + PREVIOUS)) {
          fs.renameSync(file + PREVIOUS, file);
          changes.push(`${name}: removed; the previous hook is back`);
        } else {
          changes.push(`${name}: removed`);
        }
      }
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'HarnError') throw error;
    throw stateError(`cannot ${action} hooks in ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { action, hooks_dir: dir, hooks: statusOf(dir), changes };
}
