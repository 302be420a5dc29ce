import { usageError } from '../../core/errors.js';

/**
 * Claude Code's PreToolUse hook, as an adapter: the JSON payload Claude Code writes on the hook's stdin in,
 * the paths its editing tools are about to write out. Claude Code blocks the tool when the hook exits 2 and
 * shows the hook's stderr to the model; any other exit lets the tool run (docs/recipes.md).
 *
 * Payload fields used: `hook_event_name`, `tool_name`, `tool_input.file_path` (Edit, Write, MultiEdit),
 * `tool_input.notebook_path` (NotebookEdit), `cwd` (relative paths are taken from it), `session_id`.
 */

/** What an agent's hook asks: may these paths be written, by this session, from this directory? */
export interface AgentHookRequest {
  /** Paths the tool would write (absolute, or relative to `cwd`); empty for tools that write nothing. */
  readonly paths: readonly string[];
  /** The directory the agent works in, when the payload says. */
  readonly cwd: string | null;
  /** The agent's session id, when the payload has one: the seam for recognising the calling agent's own locks. */
  readonly session: string | null;
}

/** The tools that write files, and where each names its file. */
const EDITING_TOOLS: Record<string, readonly string[]> = {
  Edit: ['file_path'],
  Write: ['file_path'],
  MultiEdit: ['file_path'],
  NotebookEdit: ['notebook_path'],
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

export function parseClaudeCode(payload: string): AgentHookRequest {
  let data: unknown;
  try {
    data = JSON.parse(payload);
  } catch {
    throw usageError('stdin is not JSON (expected the PreToolUse payload Claude Code sends)');
  }
  if (!isRecord(data)) throw usageError('the payload is not a JSON object');
  const cwd = text(data.cwd);
  const session = text(data.session_id);
  const event = text(data.hook_event_name);
  const tool = text(data.tool_name);
  const fields = tool === null || (event !== null && event !== 'PreToolUse') ? undefined : EDITING_TOOLS[tool];
  if (!fields) return { paths: [], cwd, session };
  const input = isRecord(data.tool_input) ? data.tool_input : {};
  const paths = fields.map((field) => text(input[field])).filter((p): p is string => p !== null);
  return { paths, cwd, session };
}
