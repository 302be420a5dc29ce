import type { HarnEvent } from '../core/events.js';
import { processAlive } from '../core/process-tree.js';
import type { AgentProcess, RegistryConfig } from '../core/registry.js';
import { hostName } from '../core/host.js';
import { SeenStore } from '../store/seen-store.js';
import { endDeadSessions } from './agent-session.js';
import { optionalDuration } from '../core/validate.js';
import { openStore } from '../store/store-factory.js';
import type { SessionKeeperChoice } from '../store/transaction.js';
import { findWorkspace, workspaceOrigin } from '../store/workspace.js';
import type { Context } from './context.js';
import { escapeForTerminal } from '../render/escape.js';

/** The parsed settings a context is built from: the CLI gets them from flags, the library from options. */
export interface ContextSettings {
  /** Where the workspace is looked for and relative paths are taken from. */
  readonly cwd: string;
  /** The workspace root, overriding discovery (HARN_WORKSPACE), relative to `cwd`. */
  readonly workspace?: string;
  readonly config: RegistryConfig;
  /** 'file' (default) or a postgres:// URL. */
  readonly store?: string;
  readonly namespace?: string;
  readonly stateLockWaitMs?: number;
  readonly clock?: () => number;
  readonly trace?: (line: string) => void;
  /** Where warnings go (a committed change whose event could not be logged); default: stderr. */
  readonly warn?: (line: string) => void;
  /** HARN_SAFE_DIRECTORIES: workspace roots whose `.harn/` may belong to another user. */
  readonly safeDirectories?: string;
  /** PostgreSQL: borrow sessions from the session keeper (the CLI's calls, unless HARN_PG_KEEPER=off). */
  readonly sessionKeeper?: SessionKeeperChoice;
  /** Whether a recorded process still runs (default: /proc, by pid and start time); tests inject one. */
  readonly processAlive?: (process: AgentProcess) => boolean;
}

/**
 * One call's defaults for what it creates, from what a caller gave (a "30s" string or ms): the one builder
 * the CLI and the library share. Absent, the workspace's settings apply (`harn-agents config`); they never
 * change how long agents created by others live. `names` are how the caller knows them, for the error message.
 */
export function registryConfig(
  given: { readonly lockTtl?: unknown; readonly agentTimeout?: unknown },
  names: { readonly lockTtl: string; readonly agentTimeout: string } = { lockTtl: 'lockTtl', agentTimeout: 'agentTimeout' },
): RegistryConfig {
  return {
    defaultLockTtlMs: optionalDuration(given.lockTtl, names.lockTtl),
    agentTimeoutMs: optionalDuration(given.agentTimeout, names.agentTimeout),
  };
}

/** One context for the CLI, the library and the MCP server alike: the workspace found, its store opened. */
export function openContext(settings: ContextSettings): Context {
  const workspace = findWorkspace(settings.cwd, { HARN_WORKSPACE: settings.workspace, HARN_SAFE_DIRECTORIES: settings.safeDirectories });
  const clock = settings.clock ?? Date.now;
  const warn = settings.warn ?? ((line: string) => process.stderr.write(`harn-agents: warning: ${line}\n`));
  for (const dir of workspace.ignoredStateDirs ?? []) {
    warn(`ignoring ${escapeForTerminal(dir)}: a .harn below the repository's top-level is never a registry of its own; this call uses ${escapeForTerminal(workspace.stateDir)}`);
  }
  // Agents this call creates record the worktree and branch they come from (read only then). Every
  // transaction ends the AI agent sessions of this host whose process is gone.
  const alive = settings.processAlive ?? processAlive;
  const config: RegistryConfig = {
    ...settings.config,
    origin: settings.config.origin ?? (() => workspaceOrigin(workspace)),
    endSessions:
      settings.config.endSessions ??
      ((registry, nowMs) => {
        const events: HarnEvent[] = [];
        endDeadSessions(registry, nowMs, hostName, alive, () => new SeenStore(workspace.stateDir, workspace), (e) => events.push(e), workspace.root);
        return events;
      }),
  };
  return {
    workspace,
    config,
    clock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    store: openStore({ ...settings, config, workspace, clock }),
  };
}
