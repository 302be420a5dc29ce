import fs from 'node:fs';
import { assertWritableRepoFile, readRepoFile, readRepoFileIfRegular, writeRepoFile } from './repo-file.js';
import path from 'node:path';
import { usageError } from '../core/errors.js';
import { HOOK_NAMES, type HookName, type HookStatus, type HookTarget, type ManagerOutcome } from './types.js';

/**
 * Plain hooks in .git/hooks (or an untracked core.hooksPath outside the work tree): our script is the hook.
 * A hook that was there before is kept (renamed `<hook>.harn-previous`) and still runs first; uninstall
 * puts it back exactly.
 */

export const MARKER = '# harn-agents hook v1';
export const PREVIOUS = '.harn-previous';

const shellQuote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/** The hook script. `cli` is how to run harn-agents when it is not on PATH (this very installation). */
export function hookScript(name: HookName, cli: readonly string[]): string {
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
    "printf '%s\\n' \"$input\" | run_harn check --pre-push",
    '',
  ].join('\n');
}

export function isOurs(file: string): boolean {
  // Not a regular file (or unreadable): not ours, and never written through.
  return readRepoFileIfRegular(file)?.includes(MARKER) ?? false;
}

export function plainStatus(dir: string): HookStatus[] {
  return HOOK_NAMES.map((name) => {
    const file = path.join(dir, name);
    const state = !fs.existsSync(file) ? 'absent' : isOurs(file) ? 'installed' : 'foreign';
    return { name, state, previous: fs.existsSync(file + PREVIOUS) };
  });
}

export function installPlain(target: HookTarget): ManagerOutcome {
  const dir = target.layout.hooksDir;
  const changes: string[] = [];
  // Every check before the first change: a refusal (a hooks folder that is a link, a hook that is not a
  // regular file, a .harn-previous in the way) leaves everything as it was.
  for (const name of HOOK_NAMES) {
    const file = path.join(dir, name);
    assertWritableRepoFile(file, target.layout.top);
    if (!isOurs(file) && fs.existsSync(file) && fs.existsSync(file + PREVIOUS)) {
      throw usageError(`${file}${PREVIOUS} already exists; move it away first so nothing is overwritten (nothing was changed)`);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  for (const name of HOOK_NAMES) {
    const file = path.join(dir, name);
    const script = hookScript(name, target.cli);
    if (isOurs(file)) {
      if (readRepoFile(file) !== script) writeRepoFile(file, script, { top: target.layout.top });
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
    // 0777 less the umask: executable, and group- or world-writable only if the umask says so.
    writeRepoFile(file, script, { top: target.layout.top, mode: 0o777 });
  }
  return { hooks: plainStatus(dir), changes, files: HOOK_NAMES.map((n) => path.join(dir, n)) };
}

export function uninstallPlain(target: HookTarget): ManagerOutcome {
  const dir = target.layout.hooksDir;
  const changes: string[] = [];
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
  return { hooks: plainStatus(dir), changes, files: HOOK_NAMES.map((n) => path.join(dir, n)) };
}

/**
 * Undo what an older plain install left in a directory a hook manager now owns: our script (where the
 * manager's hook belongs, or renamed by the manager to `.old`/`.legacy`), and a `.harn-previous` copy of
 * the manager's own hook that nothing runs any more. `isManagers` says whether a hook file is the
 * manager's generated one; anything else is left where it is and reported.
 */
export function cleanPlainLeftovers(dir: string, isManagers: (text: string) => boolean): string[] {
  const changes: string[] = [];
  for (const name of HOOK_NAMES) {
    const file = path.join(dir, name);
    const previous = file + PREVIOUS;
    if (isOurs(file)) {
      fs.rmSync(file);
      if (fs.existsSync(previous)) {
        fs.renameSync(previous, file);
        changes.push(`${name}: removed an earlier harn-agents hook and put back the one it had replaced`);
      } else {
        changes.push(`${name}: removed an earlier harn-agents hook`);
      }
    }
    for (const renamed of [`${file}.old`, `${file}.legacy`]) {
      if (isOurs(renamed)) {
        fs.rmSync(renamed);
        changes.push(`${name}: removed an earlier harn-agents hook left as ${path.basename(renamed)}`);
      }
    }
    const kept = readRepoFileIfRegular(previous); // not a regular file: reported as not the manager's, left alone
    if (kept !== null) {
      if (isManagers(kept)) {
        fs.rmSync(previous);
        changes.push(`${name}: removed ${name}${PREVIOUS}, a stale copy of the manager's own hook`);
      } else {
        changes.push(`${name}: ${name}${PREVIOUS} is left in ${dir}: it is not the manager's hook; look at it and remove it`);
      }
    }
  }
  return changes;
}
