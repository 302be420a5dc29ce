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
      readonly command: readonly string[];
      readonly exit_code: number | null;
      readonly signal: string | null;
      readonly duration_ms: number;
    };
