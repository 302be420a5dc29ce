import fs from 'node:fs';
import path from 'node:path';
import { assertWritableRepoFile, readRepoFile, writeRepoFile } from '../repo-file.js';

/**
 * `hook install --claude-code`: a PreToolUse hook in the project's `.claude/settings.json` that runs
 * `harn-agents check --hook claude-code` before Claude Code's editing tools. The file is merged, never
 * replaced: the user's other settings keep their meaning (the file is rewritten with two-space indentation).
 * Uninstall removes only our hook, and the matcher entry or keys that held nothing else.
 */

export const CLAUDE_COMMAND = 'harn-agents check --hook claude-code';
export const CLAUDE_MATCHER = 'Edit|Write|MultiEdit|NotebookEdit';

export interface ClaudeSettingsResult {
  readonly action: 'install' | 'uninstall' | 'status';
  readonly file: string;
  readonly installed: boolean;
  readonly change: string;
  /** Set when the file could not be edited safely: the JSON to merge by hand. */
  readonly manual: string | null;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const entry = (): Json => ({ matcher: CLAUDE_MATCHER, hooks: [{ type: 'command', command: CLAUDE_COMMAND }] });
const manualText = (): string => JSON.stringify({ hooks: { PreToolUse: [entry()] } }, null, 2);
const isOurs = (hook: unknown): boolean => isRecord(hook) && hook.command === CLAUDE_COMMAND;
const holdsOurs = (group: unknown): boolean => isRecord(group) && Array.isArray(group.hooks) && group.hooks.some(isOurs);

export function claudeSettings(action: ClaudeSettingsResult['action'], projectDir: string): ClaudeSettingsResult {
  const file = path.join(projectDir, '.claude', 'settings.json');
  const text = readRepoFile(file);
  let settings: unknown = {};
  if (text !== null && text.trim() !== '') {
    try {
      settings = JSON.parse(text);
    } catch {
      settings = undefined;
    }
  }
  const unsafe = (why: string): ClaudeSettingsResult => ({ action, file, installed: false, change: why, manual: action === 'install' ? manualText() : null });
  if (!isRecord(settings)) return unsafe(`${file} is not a JSON object`);
  const hooks = settings.hooks ?? {};
  if (!isRecord(hooks)) return unsafe(`"hooks" in ${file} is not an object`);
  const pre = hooks.PreToolUse ?? [];
  if (!Array.isArray(pre)) return unsafe(`"hooks.PreToolUse" in ${file} is not a list`);
  const installed = pre.some(holdsOurs);
  const write = (next: Json) => {
    assertWritableRepoFile(file, projectDir); // before mkdir: a .claude linked elsewhere is named, and nothing made there
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeRepoFile(file, `${JSON.stringify(next, null, 2)}\n`, { top: projectDir });
  };
  if (action === 'status') return { action, file, installed, change: `claude-code: ${installed ? 'installed' : 'not installed'} (${file})`, manual: null };
  if (action === 'install') {
    if (installed) return { action, file, installed, change: `claude-code: already in ${file}`, manual: null };
    write({ ...settings, hooks: { ...hooks, PreToolUse: [...pre, entry()] } });
    return { action, file, installed: true, change: `claude-code: added a PreToolUse hook to ${file}`, manual: null };
  }
  if (!installed) return { action, file, installed, change: `claude-code: not installed (${file})`, manual: null };
  const remaining = pre
    .map((group) => (holdsOurs(group) && isRecord(group) && Array.isArray(group.hooks) ? { ...group, hooks: group.hooks.filter((h) => !isOurs(h)) } : group))
    .filter((group) => !(isRecord(group) && Array.isArray(group.hooks) && group.hooks.length === 0));
  const nextHooks: Json = { ...hooks, PreToolUse: remaining };
  if (remaining.length === 0) delete nextHooks.PreToolUse;
  const next: Json = { ...settings, hooks: nextHooks };
  if (Object.keys(nextHooks).length === 0) delete next.hooks;
  write(next);
  return { action, file, installed: false, change: `claude-code: removed its PreToolUse hook from ${file}`, manual: null };
}
