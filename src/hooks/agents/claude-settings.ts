import fs from 'node:fs';
import path from 'node:path';
import { assertWritableRepoFile, readRepoFile, writeRepoFile } from '../repo-file.js';

/**
 * `hook install --claude-code` (and `--codex`): the hooks of an AI coding agent session's whole lifecycle,
 * each running `harn-agents agent-hook <agent>`, merged into the project's settings file of that agent:
 * Claude Code's `.claude/settings.json` (or, with `--local`, `.claude/settings.local.json`), Codex's
 * `.codex/hooks.json`. Both take the same `{"hooks": {event: [{matcher, hooks: [{type, command}]}]}}` shape.
 * The file is merged, never replaced: the user's other settings and hooks keep their meaning (the file is
 * rewritten with two-space indentation). Install is idempotent and replaces an older harn-agents hook
 * (`check --hook claude-code`, or other matchers); uninstall removes only ours, and the matcher entries or
 * keys that held nothing else.
 */

export interface AgentSettingsSpec {
  readonly agent: string;
  /** The settings file, from the project's top (and --local). */
  readonly file: (projectDir: string, local: boolean) => string;
  /** Event -> matcher (null: the event takes none). What each does: docs/agents.md. */
  readonly events: ReadonlyArray<readonly [string, string | null]>;
  readonly command: string;
  /** Hooks earlier versions installed: recognised, so install replaces them and uninstall removes them. */
  readonly legacy: readonly string[];
  /** What to tell the user about committing the file. */
  readonly commitNote: (relative: string, local: boolean) => string;
}

/**
 * The hook command: `harn-agents` on PATH, else the project's own devDependency (Claude Code's hook shell does
 * not put node_modules/.bin on PATH). Committed, so it names no path of this machine.
 */
export const CLAUDE_COMMAND = 'exec "$(command -v harn-agents || echo "$CLAUDE_PROJECT_DIR/node_modules/.bin/harn-agents")" agent-hook claude-code';
export const LEGACY_CLAUDE_COMMAND = 'harn-agents check --hook claude-code';
const EDITING = 'Edit|Write|MultiEdit|NotebookEdit';

export const CLAUDE_CODE: AgentSettingsSpec = {
  agent: 'claude-code',
  file: (dir, local) => path.join(dir, '.claude', local ? 'settings.local.json' : 'settings.json'),
  events: [
    ['SessionStart', null],
    ['PreToolUse', `${EDITING}|Bash`],
    ['PostToolUse', `Read|${EDITING}|Bash`],
    ['SubagentStop', null],
    ['Stop', null],
    ['SessionEnd', null],
  ],
  command: CLAUDE_COMMAND,
  legacy: [LEGACY_CLAUDE_COMMAND, 'harn-agents agent-hook claude-code'],
  commitNote: (relative, local) => (local ? `${relative} is your own (Claude Code keeps settings.local.json out of git)` : `commit ${relative} so every session of the project uses them`),
};

/** Codex: no SessionEnd in its released hooks (a session ends when its process is gone). */
export const CODEX: AgentSettingsSpec = {
  agent: 'codex',
  file: (dir) => path.join(dir, '.codex', 'hooks.json'),
  events: [
    ['SessionStart', null],
    ['PreToolUse', 'Bash|apply_patch'],
    ['PostToolUse', 'Bash|apply_patch'],
    ['SubagentStop', null],
    ['Stop', null],
  ],
  // Codex runs hooks in the session's directory, which may be below the top.
  command: 'exec "$(command -v harn-agents || echo "$(git rev-parse --show-toplevel)/node_modules/.bin/harn-agents")" agent-hook codex',
  legacy: ['harn-agents agent-hook codex'],
  commitNote: (relative) => `commit ${relative}; Codex runs a project's hooks once you trust them (its /hooks review)`,
};

export const CLAUDE_EVENTS = CLAUDE_CODE.events;

export interface ClaudeSettingsResult {
  readonly action: 'install' | 'uninstall' | 'status';
  readonly file: string;
  /** Every event has our hook with the current matcher. */
  readonly installed: boolean;
  /** Events whose hook is missing or out of date (for status and doctor). */
  readonly missing: readonly string[];
  readonly change: string;
  /** Set when the file could not be edited safely: the JSON to merge by hand. */
  readonly manual: string | null;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export function claudeSettings(action: ClaudeSettingsResult['action'], projectDir: string, local = false): ClaudeSettingsResult {
  return agentSettings(CLAUDE_CODE, action, projectDir, local);
}

export function agentSettings(spec: AgentSettingsSpec, action: ClaudeSettingsResult['action'], projectDir: string, local = false): ClaudeSettingsResult {
  const CLAUDE_EVENTS = spec.events;
  const isOurs = (hook: unknown): boolean => isRecord(hook) && typeof hook.command === 'string' && (hook.command === spec.command || spec.legacy.includes(hook.command));
  const holdsOurs = (group: unknown): boolean => isRecord(group) && Array.isArray(group.hooks) && group.hooks.some(isOurs);
  const entry = (matcher: string | null): Json => ({ ...(matcher === null ? {} : { matcher }), hooks: [{ type: 'command', command: spec.command }] });
  const manualText = (): string => JSON.stringify({ hooks: Object.fromEntries(CLAUDE_EVENTS.map(([event, matcher]) => [event, [entry(matcher)]])) }, null, 2);
  /** Whether the event's groups hold exactly our current hook (command and matcher), and no older one. */
  const current = (groups: unknown, matcher: string | null): boolean =>
    Array.isArray(groups) &&
    groups.some((g) => isRecord(g) && (g.matcher ?? null) === matcher && Array.isArray(g.hooks) && g.hooks.some((h) => isRecord(h) && h.command === spec.command)) &&
    !groups.some((g) => isRecord(g) && Array.isArray(g.hooks) && g.hooks.some((h) => isRecord(h) && typeof h.command === 'string' && spec.legacy.includes(h.command)));
  /** The event's groups without our hooks (groups left empty dropped). */
  const withoutOurs = (groups: readonly unknown[]): unknown[] =>
    groups
      .map((group) => (holdsOurs(group) && isRecord(group) && Array.isArray(group.hooks) ? { ...group, hooks: group.hooks.filter((h) => !isOurs(h)) } : group))
      .filter((group) => !(isRecord(group) && Array.isArray(group.hooks) && group.hooks.length === 0));
  const name = spec.agent;
  const file = spec.file(projectDir, local);
  const text = readRepoFile(file);
  let settings: unknown = {};
  if (text !== null && text.trim() !== '') {
    try {
      settings = JSON.parse(text);
    } catch {
      settings = undefined;
    }
  }
  const all = CLAUDE_EVENTS.map(([event]) => event);
  const unsafe = (why: string): ClaudeSettingsResult => ({ action, file, installed: false, missing: all, change: why, manual: action === 'install' ? manualText() : null });
  if (!isRecord(settings)) return unsafe(`${file} is not a JSON object`);
  const hooks = settings.hooks ?? {};
  if (!isRecord(hooks)) return unsafe(`"hooks" in ${file} is not an object`);
  for (const [event] of CLAUDE_EVENTS) {
    if (hooks[event] !== undefined && !Array.isArray(hooks[event])) return unsafe(`"hooks.${event}" in ${file} is not a list`);
  }
  const missing = CLAUDE_EVENTS.filter(([event, matcher]) => !current(hooks[event], matcher)).map(([event]) => event);
  const any = CLAUDE_EVENTS.some(([event]) => Array.isArray(hooks[event]) && (hooks[event] as unknown[]).some(holdsOurs));
  const write = (next: Json) => {
    assertWritableRepoFile(file, projectDir); // before mkdir: a .claude linked elsewhere is named, and nothing made there
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeRepoFile(file, `${JSON.stringify(next, null, 2)}\n`, { top: projectDir });
  };
  const commit = spec.commitNote(path.relative(projectDir, file), local);
  if (action === 'status') {
    const state = missing.length === 0 ? 'installed' : any ? `partly installed or out of date (missing: ${missing.join(', ')}; run: harn-agents hook install --${name}${local ? ' --local' : ''})` : 'not installed';
    return { action, file, installed: missing.length === 0, missing, change: `${name}: ${state} (${file})`, manual: null };
  }
  if (action === 'install') {
    if (missing.length === 0) return { action, file, installed: true, missing, change: `${name}: already in ${file}`, manual: null };
    const nextHooks: Json = { ...hooks };
    for (const [event, matcher] of CLAUDE_EVENTS) nextHooks[event] = [...withoutOurs((hooks[event] as unknown[] | undefined) ?? []), entry(matcher)];
    write({ ...settings, hooks: nextHooks });
    return { action, file, installed: true, missing: [], change: `${name}: ${any ? 'updated' : 'added'} its hooks (${all.join(', ')}) in ${file}; ${commit}`, manual: null };
  }
  if (!any) return { action, file, installed: false, missing, change: `${name}: not installed (${file})`, manual: null };
  const nextHooks: Json = { ...hooks };
  for (const [event] of CLAUDE_EVENTS) {
    if (!Array.isArray(hooks[event])) continue;
    const remaining = withoutOurs(hooks[event] as unknown[]);
    if (remaining.length === 0) delete nextHooks[event];
    else nextHooks[event] = remaining;
  }
  const next: Json = { ...settings, hooks: nextHooks };
  if (Object.keys(nextHooks).length === 0) delete next.hooks;
  write(next);
  return { action, file, installed: false, missing: all, change: `${name}: removed its hooks from ${file}`, manual: null };
}
