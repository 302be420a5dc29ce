import type { RegistryConfig } from '../core/registry.js';
import type { Store } from '../store/file-store.js';
import type { Workspace } from '../store/workspace.js';

/** Everything a command needs from the outside world, injected so tests can drive commands directly. */
export interface Context {
  readonly workspace: Workspace;
  readonly store: Store;
  readonly config: RegistryConfig;
  /** Wall-clock ms; only used to time `--wait` loops (the store reads it for each transaction). */
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** How an agent is named in every output: its id and its name. */
export interface AgentRef {
  readonly id: number;
  readonly name: string;
}

export const agentRef = (agent: AgentRef): AgentRef => ({ id: agent.id, name: agent.name });
