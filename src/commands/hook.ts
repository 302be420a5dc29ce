import { spawnSync } from 'node:child_process';
import { readRepoFileIfRegular, writeRepoFile } from '../hooks/repo-file.js';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, isHarnError, stateError, usageError } from '../core/errors.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import { defineCommand } from './command.js';
import type { Rendered } from '../render/text.js';
import { agentSettings, CLAUDE_CODE, CODEX, type ClaudeSettingsResult } from '../hooks/agents/claude-settings.js';
import { hasBlock, removeBlocks } from '../hooks/blocks.js';
import { gitLayout, insideWorkTree, type GitLayout } from '../hooks/git.js';
import { huskyScripts, isHuskyHook } from '../hooks/husky.js';
import { addToLefthook, isLefthookHook, lefthookConfig, lefthookManual, lefthookStatus } from '../hooks/lefthook.js';
import { cleanPlainLeftovers, installPlain, plainStatus, PREVIOUS, uninstallPlain } from '../hooks/plain.js';
import { addToPreCommit, isPreCommitHook, PRE_COMMIT_CONFIG, preCommitManual, preCommitStatus } from '../hooks/pre-commit.js';
import { applyScriptPlan, planScriptInstall, scriptStatus, uninstallScripts } from '../hooks/script.js';
import { HOOK_NAMES, type HookStatus, type Manager, type ManagerOutcome } from '../hooks/types.js';

/**
 * `harn-agents hook install | uninstall | status`: the git hooks that run the guard, added the way the
 * repository's hook manager expects. pre-commit checks the staged paths; pre-push the paths changed by the
 * commits being pushed.
 *
 * - plain `.git/hooks` (or a core.hooksPath outside the work tree): our script is the hook; one that was
 *   there is kept as `<hook>.harn-previous` and still runs first (hooks/plain.ts);
 * - husky, or a core.hooksPath folder inside the work tree: a marked block in the hook scripts, naming
 *   `harn-agents` only, never a path of this machine (hooks/script.ts);
 * - lefthook, pre-commit: an entry in the manager's own configuration (hooks/lefthook.ts, hooks/pre-commit.ts).
 *
 * When a configuration cannot be edited safely, nothing is changed and `manual` holds the exact lines to add.
 */

export type { HookState, HookStatus, Manager } from '../hooks/types.js';

export interface HookResult {
  readonly action: 'install' | 'uninstall' | 'status';
  /** Who runs the hooks, and so where the checks were added. */
  readonly manager: Manager;
  readonly hooks_dir: string;
  /** The files harn-agents edits for this manager. */
  readonly files: readonly string[];
  readonly hooks: readonly HookStatus[];
  /** What the action did, one line per change. */
  readonly changes: readonly string[];
  /** Set when nothing was changed because editing was unsafe: the exact lines to add by hand. */
  readonly manual: string | null;
  /** What is still to do (the manager's own install, harn-agents on PATH). */
  readonly notes: readonly string[];
}

interface Detected {
  readonly manager: Manager;
  /** husky: `.husky`; hooks-path: the hooks folder itself. */
  readonly scripts?: string;
  /** lefthook's configuration file. */
  readonly config?: string | null;
}

/** Which manager runs this repository's hooks: core.hooksPath first, then installed hooks, then configs. */
export function detectManager(layout: GitLayout): Detected {
  const husky = huskyScripts(layout);
  if (husky) return { manager: 'husky', scripts: husky };
  if (layout.hooksPath !== null) {
    return insideWorkTree(layout.hooksDir, layout.top) ? { manager: 'hooks-path', scripts: layout.hooksDir } : { manager: 'plain' };
  }
  const installed = HOOK_NAMES.flatMap((name) => [name, `${name}${PREVIOUS}`]).map((file) => readRepoFileIfRegular(path.join(layout.hooksDir, file)) ?? '');
  const lefthook = lefthookConfig(layout.top);
  if (installed.some(isLefthookHook)) return { manager: 'lefthook', config: lefthook };
  if (installed.some(isPreCommitHook)) return { manager: 'pre-commit' };
  if (lefthook) return { manager: 'lefthook', config: lefthook };
  if (fs.existsSync(path.join(layout.top, PRE_COMMIT_CONFIG))) return { manager: 'pre-commit' };
  return { manager: 'plain' };
}

const onPath = (): boolean =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, 'harn-agents')));

const PATH_NOTE = "harn-agents is not on PATH here: the hooks call it by name (npm install -g harn-agents, or add it to the project's devDependencies)";

/** Edit one YAML configuration: add (or remove) our block, or report what to add by hand. */
function editConfig(
  action: 'install' | 'uninstall',
  file: string,
  add: (text: string) => string | null,
  manual: (file: string) => string,
  top: string,
): { changes: string[]; manual?: string } {
  const text = readRepoFileIfRegular(file); // not a regular file: an install prints the lines to add
  if (text === null) {
    return action === 'install' ? { changes: [`${file} cannot be read`], manual: manual(file) } : { changes: [`${file}: not installed`] };
  }
  if (action === 'uninstall') {
    if (!hasBlock(text)) return { changes: [`${file}: not installed`] };
    const rest = removeBlocks(text);
    if (rest === null) return { changes: [`${file} has a harn-agents block without its end marker; left alone (remove it by hand)`] };
    writeRepoFile(file, rest, { top });
    return { changes: [`removed from ${file}`] };
  }
  if (hasBlock(text)) return { changes: [`already in ${file}`] };
  if (!/\.ya?ml$/.test(file)) return { changes: [`${path.basename(file)} is not YAML: nothing was changed`], manual: manual(file) };
  const edited = add(text);
  if (edited === null) return { changes: [`${file} is laid out in a way harn-agents does not edit: nothing was changed`], manual: manual(file) };
  writeRepoFile(file, edited, { top });
  return { changes: [`added to ${file}`] };
}

function runManager(action: HookResult['action'], detected: Detected, layout: GitLayout, cli: readonly string[]): ManagerOutcome {
  const target = { layout, cli };
  const dir = layout.hooksDir;
  switch (detected.manager) {
    case 'plain':
      if (action === 'install') return installPlain(target);
      if (action === 'uninstall') return uninstallPlain(target);
      return { hooks: plainStatus(dir), changes: [], files: HOOK_NAMES.map((n) => path.join(dir, n)) };
    case 'husky':
    case 'hooks-path': {
      const scripts = detected.scripts ?? dir;
      const files = HOOK_NAMES.map((n) => path.join(scripts, n));
      const husky = detected.manager === 'husky';
      const hooks = (): HookStatus[] =>
        scriptStatus(scripts).map((h) => (husky && !fs.existsSync(path.join(dir, h.name)) ? { ...h, state: 'absent' } : h));
      if (action === 'status') return { hooks: hooks(), changes: [], files };
      const leftovers = husky ? cleanPlainLeftovers(dir, isHuskyHook) : [];
      if (action === 'uninstall') return { hooks: hooks(), changes: [...leftovers, ...uninstallScripts(scripts, layout.top)], files };
      const plans = planScriptInstall(scripts, !husky);
      const manual = plans.filter((p) => p.manual).map((p) => p.manual);
      if (manual.length > 0) return { hooks: hooks(), changes: plans.map((p) => p.change), files, manual: manual.join('\n') };
      applyScriptPlan(plans, layout.top);
      const notes = husky && HOOK_NAMES.some((n) => !fs.existsSync(path.join(dir, n))) ? ["husky's hooks are not all in place: run 'npx husky'"] : [];
      return { hooks: hooks(), changes: [...leftovers, ...plans.map((p) => p.change)], files, notes };
    }
    case 'lefthook': {
      const file = detected.config ?? path.join(layout.top, 'lefthook.yml');
      const hooks = () => lefthookStatus(file, dir);
      if (action === 'status') return { hooks: hooks(), changes: [], files: [file] };
      const leftovers = cleanPlainLeftovers(dir, isLefthookHook);
      if (action === 'install' && !fs.existsSync(file)) writeRepoFile(file, '', { top: layout.top });
      const edit = editConfig(action, file, addToLefthook, lefthookManual, layout.top);
      const notes = action === 'install' && !edit.manual && hooks().some((h) => h.state !== 'installed') ? ["run 'lefthook install' so git runs lefthook for both hooks"] : [];
      return { hooks: hooks(), changes: [...leftovers, ...edit.changes], files: [file], manual: edit.manual, notes };
    }
    case 'pre-commit': {
      const file = path.join(layout.top, PRE_COMMIT_CONFIG);
      const hooks = () => preCommitStatus(layout.top, dir);
      if (action === 'status') return { hooks: hooks(), changes: [], files: [file] };
      const leftovers = cleanPlainLeftovers(dir, isPreCommitHook);
      const edit = editConfig(action, file, addToPreCommit, preCommitManual, layout.top);
      const notes =
        action === 'install' && !edit.manual
          ? [
              `git add ${PRE_COMMIT_CONFIG} (pre-commit refuses to run with an unstaged config)`,
              ...(hooks().some((h) => h.state !== 'installed') ? ["run 'pre-commit install --hook-type pre-commit --hook-type pre-push' so git runs pre-commit for both hooks"] : []),
            ]
          : [];
      return { hooks: hooks(), changes: [...leftovers, ...edit.changes], files: [file], manual: edit.manual, notes };
    }
  }
}

export function hook(action: HookResult['action'], cwd: string, cli: readonly string[]): HookResult {
  const layout = gitLayout(cwd);
  const detected = detectManager(layout);
  let outcome: ManagerOutcome;
  try {
    outcome = runManager(action, detected, layout, cli);
  } catch (error) {
    if (isHarnError(error)) throw error;
    throw stateError(`cannot ${action} hooks in ${layout.hooksDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const notes = [...(outcome.notes ?? [])];
  if (action === 'install' && detected.manager !== 'plain' && !outcome.manual && !onPath()) notes.push(PATH_NOTE);
  return {
    action,
    manager: detected.manager,
    hooks_dir: layout.hooksDir,
    files: outcome.files,
    hooks: outcome.hooks,
    changes: outcome.changes,
    manual: outcome.manual ?? null,
    notes,
  };
}

const MANAGERS: Record<HookResult['manager'], string> = {
  'plain': 'plain git hooks',
  'hooks-path': 'hook scripts in the core.hooksPath folder inside the work tree',
  'husky': 'husky',
  'lefthook': 'lefthook',
  'pre-commit': 'pre-commit (the framework)',
};

const lines = (list: readonly string[]): string => list.map((l) => `${l}\n`).join('');

function renderHook(r: HookResult): Rendered {
  const shown = [
    ...r.changes.map(esc),
    ...(r.action === 'status'
      ? r.hooks.map((h) => `${h.name}: ${h.state === 'installed' ? 'installed' : h.state === 'foreign' ? 'another hook, not harn-agents' : 'not installed'}${h.previous ? ` (previous hook kept as ${h.name}.harn-previous)` : ''}`)
      : []),
    `hooks run by: ${MANAGERS[r.manager]}`,
    `hooks directory: ${esc(r.hooks_dir)}`,
    ...(r.manager === 'plain' ? [] : [`harn-agents edits: ${r.files.map(esc).join(', ')}`]),
    ...r.notes.map((n) => `next: ${esc(n)}`),
  ];
  if (r.manual === null) return { stdout: lines(shown), stderr: '' };
  return { stdout: lines(shown), stderr: `harn-agents: nothing was changed; add these lines by hand:\n${lines(r.manual.split('\n').map(esc))}` };
}

function renderClaudeSettings(r: ClaudeSettingsResult): Rendered {
  return r.manual === null
    ? { stdout: lines([esc(r.change)]), stderr: '' }
    : { stdout: '', stderr: `harn-agents: ${esc(r.change)}; nothing was changed. Add this to ${esc(r.file)} by hand:\n${r.manual}\n` };
}

type HookOptions = { readonly action: HookResult['action']; readonly selfCommand: readonly string[]; readonly claudeCode: boolean; readonly codex?: boolean; readonly local?: boolean };
type HookOutcome = { readonly kind: 'git'; readonly result: HookResult } | { readonly kind: 'claude-code'; readonly result: ClaudeSettingsResult };

/** Claude Code's settings live at the git top-level (the project Claude Code opens), else the workspace root. */
function claudeProject(cwd: string, root: string): string {
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8' });
  return top.status === 0 && top.stdout.trim() ? top.stdout.trim() : root;
}

export const command = defineCommand({
  name: 'hook',
  run: async (ctx, options: HookOptions): Promise<HookOutcome> =>
    options.claudeCode || options.codex
      ? {
          kind: 'claude-code',
          result: agentSettings(options.codex ? CODEX : CLAUDE_CODE, options.action, claudeProject(ctx.workspace.cwd, ctx.workspace.pathRoot), options.local === true),
        }
      : { kind: 'git', result: hook(options.action, ctx.workspace.cwd, options.selfCommand) },
  render: (r) => (r.kind === 'git' ? renderHook(r.result) : renderClaudeSettings(r.result)),
  json: (r) => r.result,
  exitCode: (r) => {
    if (r.kind === 'claude-code') return r.result.manual !== null || (r.result.action === 'status' && !r.result.installed) ? ExitCode.no : ExitCode.ok;
    return r.result.manual !== null || (r.result.action === 'status' && r.result.hooks.some((h) => h.state !== 'installed')) ? ExitCode.no : ExitCode.ok;
  },
  cli: {
    description: "install, remove or show the git hooks (or an AI agent's hook) that refuse changes to locked paths",
    arguments: [{ name: '<action>', help: 'install, uninstall or status', words: ['install', 'uninstall', 'status'] }],
    options: [
      { flags: '--claude-code', help: "Claude Code's session hooks (claims on edit, stale-write and git guards) in .claude/settings.json instead of the git hooks" },
      { flags: '--codex', help: "Codex CLI's session hooks (claims on edit, git guard) in .codex/hooks.json instead of the git hooks" },
      { flags: '--local', help: 'with --claude-code: .claude/settings.local.json (yours alone, not committed) instead' },
    ],
    examples: ['harn-agents hook install', 'harn-agents hook status', 'harn-agents hook uninstall', 'harn-agents hook install --claude-code', 'harn-agents hook install --claude-code --local', 'harn-agents hook install --codex'],
    notes:
      'pre-commit checks the staged paths, pre-push the paths changed by the commits being pushed. With husky,\n' +
      "lefthook or pre-commit, the checks go into the manager's own configuration; plain .git/hooks get a\n" +
      'script (an existing hook is kept and still runs first). When a file cannot be edited safely, nothing is\n' +
      'changed: the lines to add are printed and the exit code is 1. uninstall removes exactly what install added.\n' +
      'status exits 0 when both hooks are installed, 1 otherwise.\n',
    input: ({ args, opts, selfCommand }): HookOptions => {
      const action = args[0] as string;
      if (action !== 'install' && action !== 'uninstall' && action !== 'status') throw usageError(`hook: unknown action '${action}' (use install, uninstall or status)`);
      if (opts.local === true && opts.claudeCode !== true) throw usageError('hook: --local goes with --claude-code');
      if (opts.codex === true && opts.claudeCode === true) throw usageError('hook: give --claude-code or --codex, one at a time');
      return { action, selfCommand, claudeCode: opts.claudeCode === true, codex: opts.codex === true, local: opts.local === true };
    },
  },
});
