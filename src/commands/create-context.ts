import type { RegistryConfig } from '../core/registry.js';
import { openStore } from '../store/store-factory.js';
import { findWorkspace } from '../store/workspace.js';
import type { Context } from './context.js';

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
}

/** One context for the CLI, the library and the MCP server alike. */
export function createContext(settings: ContextSettings): Context {
  const workspace = findWorkspace(settings.cwd, settings.workspace ? { HARN_WORKSPACE: settings.workspace } : {});
  const clock = settings.clock ?? Date.now;
  return {
    workspace,
    config: settings.config,
    clock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    store: openStore({ ...settings, workspace, clock }),
  };
}
