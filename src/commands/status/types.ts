import type { ClockFacts } from '../../core/clock.js';
import type { AgentState } from '../../core/registry.js';
import type { Hold } from '../hold.js';
import type { SettingView } from '../config.js';

/** What `status` takes and answers, apart from the use case, so its renderer (status-table.ts) needs only these. */

export interface StatusOptions {
  /** Only this agent. */
  readonly agent?: number;
  /** Only locks on this path, under it, or covering it (a path as `lock` takes it; `src/` for a directory). */
  readonly pathPrefix?: string;
  /** Include crashed and gone agents that hold nothing (hidden by default). */
  readonly all?: boolean;
}

/** A live lock in `status`: the one hold shape (its `agent` is the agent it is listed under). */
export type StatusLock = Hold;

export interface StatusAgent {
  readonly id: number;
  readonly name: string;
  readonly state: AgentState;
  readonly last_seen_ms: number;
  readonly edit_count: number;
  /** Its silence limit (its own, else the workspace's), and whether it is its own (`register --timeout`). */
  readonly timeout_ms: number;
  readonly own_timeout: boolean;
  /** The git worktree and branch it registered from (null when unknown: outside git, or an older writer). */
  readonly worktree: string | null;
  readonly branch: string | null;
  /** The AI coding agent session it stands for (docs/agents.md), or null. */
  readonly session: { readonly client: string; readonly id: string } | null;
  /** Live locks only (expiry after now), soonest expiry first. */
  readonly locks: readonly StatusLock[];
}

export interface StatusResult {
  readonly now_ms: number;
  /** How far the wall clock is behind the registry's newest time; 0 unless the clock went back. */
  readonly clock_behind_ms: number;
  /** Which clock moved and by how much, when the clock is behind the registry's time. */
  readonly clock: ClockFacts;
  readonly workspace: string;
  /** The workspace's settings (`harn-agents config`). */
  readonly settings: readonly SettingView[];
  readonly agents: readonly StatusAgent[];
  /** Agents left out because they are crashed or gone and hold nothing (see `all`). */
  readonly hidden: number;
}

export interface LocksView {
  readonly now_ms: number;
  readonly locks: readonly StatusLock[];
}
