/**
 * The audit trail: what changed a registry in a way people later ask about ("who broke my lock?", "why was
 * my agent marked crashed?"). Appended to `.harn/events.jsonl` under the state lock, one JSON object a line.
 */
export interface AgentRefData {
  readonly id: number;
  readonly name: string;
}

export type HarnEvent =
  | {
      readonly type: 'reap';
      readonly ts: number;
      readonly agent: AgentRefData;
      readonly last_seen_ms: number;
      readonly released: readonly string[];
    }
  | {
      readonly type: 'force-release';
      readonly ts: number;
      readonly by: number | null;
      readonly reason: string;
      readonly broken: ReadonlyArray<{ readonly path: string; readonly holder: AgentRefData; readonly expires_ms: number; readonly lock_reason: string | null }>;
    }
  | {
      readonly type: 'with-lock';
      readonly ts: number;
      readonly agent: AgentRefData;
      readonly paths: readonly string[];
      /** The program alone: its arguments may hold secrets (a password in a connection string). */
      readonly program: string;
      readonly exit_code: number | null;
      readonly signal: string | null;
      readonly duration_ms: number;
      /** The paths whose locks were lost while the command ran (it was then stopped). */
      readonly lost?: readonly string[];
    }
  | {
      /**
       * An AI coding agent's session ended (`agent-hook`: SessionEnd, or its process found gone): the claims
       * on files it left unchanged were released; those on files it changed are kept.
       */
      readonly type: 'session-end';
      readonly ts: number;
      readonly agent: AgentRefData;
      readonly cause: 'session-end' | 'process-gone';
      readonly released: readonly string[];
      readonly kept: readonly string[];
    }
  | {
      /** `doctor --fix-clock`: every stored time moved back by `offset_ms`, so the newest is this clock's now. */
      readonly type: 'clock-rebase';
      readonly ts: number;
      readonly offset_ms: number;
      readonly agents: number;
      readonly locks: number;
    }
  | {
      /** `doctor --reset`: an invalid state file was moved aside and a fresh registry started. */
      readonly type: 'state-reset';
      readonly ts: number;
      readonly moved_to: string;
      readonly next_id: number;
    };
