import { usageError } from '../../core/errors.js';

/**
 * Claude Code's hook payloads, as an adapter: the JSON Claude Code writes on a hook's stdin in, one typed
 * event out. Fields read (Claude Code's hook reference): `session_id`, `cwd`, `hook_event_name`, `tool_name`,
 * `tool_input` (`file_path`, `notebook_path`, `command`), `agent_id` (set when a subagent makes the call),
 * `source` (SessionStart), `reason` (SessionEnd). Anything else is ignored; a field of the wrong type is
 * treated as absent, so a payload never makes the hook throw beyond "not JSON" or "not an object".
 */

/** The tools that write files, and where each names its file. */
export const EDITING_TOOLS: Readonly<Record<string, string>> = {
  Edit: 'file_path',
  Write: 'file_path',
  MultiEdit: 'file_path',
  NotebookEdit: 'notebook_path',
};

/** The tools that read a file, and where each names it. */
export const READING_TOOLS: Readonly<Record<string, string>> = { Read: 'file_path' };

export type AgentToolCall =
  | { readonly kind: 'edit'; readonly tool: string; readonly files: readonly string[] }
  | { readonly kind: 'read'; readonly tool: string; readonly file: string }
  | { readonly kind: 'shell'; readonly tool: string; readonly command: string }
  | { readonly kind: 'other'; readonly tool: string };

/** One hook call of an AI coding agent, whatever the agent: what `agent-hook` acts on. */
export interface AgentHookEvent {
  /** The hook event: SessionStart, PreToolUse, PostToolUse, SubagentStop, SessionEnd, Stop, or another. */
  readonly event: string;
  /** The agent's session id; null when the payload has none (then nothing is claimed or recorded). */
  readonly session: string | null;
  /** The directory the agent works in (relative paths are taken from it). */
  readonly cwd: string | null;
  /** The subagent making the call (null: the session's main agent). */
  readonly subagent: string | null;
  readonly call: AgentToolCall | null;
  /** SessionStart's `source` (startup, resume, clear, compact) or SessionEnd's `reason`. */
  readonly detail: string | null;
  /**
   * Whether the agent's reads are seen (Claude Code's Read tool): then an edit of a file this (sub)agent has
   * not read, or that changed since, is refused. An agent that reads through its shell (Codex) is not.
   */
  readonly tracksReads: boolean;
}

/** The longest session id, agent id or tool name taken from a payload; longer ones are not real. */
export const MAX_ID_LENGTH = 512;
/** The longest path or shell command taken from a payload. */
export const MAX_TEXT_LENGTH = 1024 * 1024;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const text = (value: unknown, max: number): string | null => (typeof value === 'string' && value !== '' && value.length <= max && !value.includes('\0') ? value : null);

/** The parsed JSON object of a payload, or a usage error naming what is wrong. */
export function payloadObject(payload: string, agentName: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(payload);
  } catch {
    throw usageError(`stdin is not JSON (expected the hook payload ${agentName} sends)`);
  }
  if (!isRecord(data)) throw usageError('the hook payload is not a JSON object');
  return data;
}

export function toolCall(tool: string | null, input: unknown): AgentToolCall | null {
  if (tool === null) return null;
  const fields = isRecord(input) ? input : {};
  const editField = Object.hasOwn(EDITING_TOOLS, tool) ? EDITING_TOOLS[tool] : undefined;
  if (editField !== undefined) {
    const file = text(fields[editField], MAX_TEXT_LENGTH);
    return file === null ? { kind: 'other', tool } : { kind: 'edit', tool, files: [file] };
  }
  const readField = Object.hasOwn(READING_TOOLS, tool) ? READING_TOOLS[tool] : undefined;
  if (readField !== undefined) {
    const file = text(fields[readField], MAX_TEXT_LENGTH);
    return file === null ? { kind: 'other', tool } : { kind: 'read', tool, file };
  }
  if (tool === 'Bash') {
    const command = text(fields.command, MAX_TEXT_LENGTH);
    return command === null ? { kind: 'other', tool } : { kind: 'shell', tool, command };
  }
  return { kind: 'other', tool };
}

/**
 * The fields every agent CLI following Claude Code's hook protocol shares (Codex too), with its own reading
 * of the tool call.
 */
export function hookEvent(
  data: Record<string, unknown>,
  readCall: (tool: string | null, input: unknown) => AgentToolCall | null,
  tracksReads: boolean,
): AgentHookEvent {
  const event = text(data.hook_event_name, MAX_ID_LENGTH) ?? 'PreToolUse';
  return {
    event,
    session: text(data.session_id, MAX_ID_LENGTH),
    cwd: text(data.cwd, MAX_TEXT_LENGTH),
    subagent: text(data.agent_id, MAX_ID_LENGTH),
    call: readCall(text(data.tool_name, MAX_ID_LENGTH), data.tool_input),
    detail: text(event === 'SessionEnd' ? data.reason : data.source, MAX_ID_LENGTH),
    tracksReads,
  };
}

export function parseClaudeCode(payload: string): AgentHookEvent {
  return hookEvent(payloadObject(payload, 'Claude Code'), toolCall, true);
}
