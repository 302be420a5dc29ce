import fs from 'node:fs';
import { assertWritableRepoFile, readRepoFile, writeRepoFile } from './repo-file.js';
import path from 'node:path';
import { beginLine, createdByUs, endLine, hasBlock, insertLines, removeBlocks } from './blocks.js';
import { CHECK_COMMAND, HOOK_NAMES, type HookName, type HookStatus } from './types.js';

/**
 * Hook scripts that may be committed (husky's `.husky/<hook>`, a tracked core.hooksPath folder): our check
 * goes in as a marked block of lines near the top, so it runs before anything that could `exit 0` or read
 * pre-push's stdin. Only `harn-agents` by name: never a machine-specific path in a file others check out.
 */

/** Our lines for one hook. pre-push reads git's stdin and hands it back, so the script's own lines still see it. */
export function scriptBlock(name: HookName, created: boolean): string[] {
  const body =
    name === 'pre-commit'
      ? [`${CHECK_COMMAND['pre-commit']} || exit $?`]
      : [
          'harn_agents_input=$(cat)',
          `printf '%s\\n' "$harn_agents_input" | ${CHECK_COMMAND['pre-push']} || exit $?`,
          'exec 0<<HARN_AGENTS_INPUT',
          '$harn_agents_input',
          'HARN_AGENTS_INPUT',
        ];
  return [beginLine('', created), ...body, endLine('')];
}

const SHELLS = /^#!\s*(\/usr\/bin\/env\s+(-S\s+)?)?(\/[\w/.-]*\/)?(sh|bash|dash|zsh|ksh|ash)(\s|$)/;

/** Whether our lines can go into this script: a POSIX-shell script (or none yet). */
function editable(text: string): boolean {
  if (text.includes('\0')) return false;
  const first = text.split('\n', 1)[0] ?? '';
  return !first.startsWith('#!') || SHELLS.test(first);
}

/** The line our block goes after: the shebang, and husky v8's `. "$(dirname -- "$0")/_/husky.sh"`. */
function insertionPoint(text: string): number {
  const lines = text.split('\n');
  let at = -1;
  if (lines[0]?.startsWith('#!')) at = 0;
  if (lines[at + 1]?.includes('husky.sh')) at++;
  return at;
}

export interface ScriptPlan {
  readonly name: HookName;
  readonly file: string;
  /** New content, or null when nothing is to change. */
  readonly content: string | null;
  readonly change: string;
  /** The exact lines to add by hand when the file cannot be edited safely. */
  readonly manual?: string;
}

/**
 * Plan adding our block to `dir/<hook>` for each hook. `shebang`: a created file needs one (it is the hook
 * itself) or not (husky v9 runs it with `sh -e`).
 */
export function planScriptInstall(dir: string, shebang: boolean): ScriptPlan[] {
  return HOOK_NAMES.map((name) => {
    const file = path.join(dir, name);
    const existing = readRepoFile(file);
    if (existing !== null && hasBlock(existing)) return { name, file, content: null, change: `${name}: already in ${file}` };
    if (existing === null) {
      const content = [...(shebang ? ['#!/bin/sh'] : []), ...scriptBlock(name, true), ''].join('\n');
      return { name, file, content, change: `${name}: created ${file}` };
    }
    if (!editable(existing)) {
      return { name, file, content: null, change: `${name}: ${file} is not a shell script`, manual: `${file}:\n${scriptBlock(name, false).join('\n')}` };
    }
    return { name, file, content: insertLines(existing, insertionPoint(existing), scriptBlock(name, false)), change: `${name}: added to ${file}` };
  });
}

export function applyScriptPlan(plans: readonly ScriptPlan[], top: string): void {
  // All or nothing: every file is checked before the first is written, so a refusal changes none.
  for (const plan of plans) if (plan.content !== null) assertWritableRepoFile(plan.file, top);
  for (const plan of plans) if (plan.content !== null) fs.mkdirSync(path.dirname(plan.file), { recursive: true });
  // A created file is executable, less the umask; an existing one keeps its mode.
  for (const plan of plans) if (plan.content !== null) writeRepoFile(plan.file, plan.content, { top, mode: 0o777 });
}

export function uninstallScripts(dir: string, top: string): string[] {
  const changes: string[] = [];
  for (const name of HOOK_NAMES) {
    const file = path.join(dir, name);
    const text = readRepoFile(file);
    if (text === null || !hasBlock(text)) {
      changes.push(`${name}: not installed`);
      continue;
    }
    const rest = removeBlocks(text);
    if (rest === null) {
      changes.push(`${name}: ${file} has a harn-agents block without its end marker; left alone (remove it by hand)`);
    } else if (createdByUs(text) && /^(#![^\n]*)?\s*$/.test(rest)) {
      fs.rmSync(file);
      changes.push(`${name}: removed ${file} (harn-agents had created it)`);
    } else {
      writeRepoFile(file, rest, { top });
      changes.push(`${name}: removed from ${file}`);
    }
  }
  return changes;
}

export function scriptStatus(dir: string): HookStatus[] {
  return HOOK_NAMES.map((name) => {
    const file = path.join(dir, name);
    const text = readRepoFile(file);
    return { name, state: text !== null && hasBlock(text) ? 'installed' : 'absent', previous: false };
  });
}
