import { hookEvent, MAX_TEXT_LENGTH, payloadObject, text, type AgentHookEvent, type AgentToolCall } from './claude-code.js';

/**
 * Codex CLI's hook payloads (its hooks reference and codex-rs/hooks/src/schema.rs): the same common fields as
 * Claude Code's (`session_id`, `cwd`, `hook_event_name`, `tool_name`, `tool_input`, `agent_id`), but every
 * shell tool arrives as `Bash` with `tool_input.command` a string, and every edit as `apply_patch` with the
 * patch text in `tool_input.command`: its `*** Add File:`, `*** Update File:`, `*** Delete File:` and
 * `*** Move to:` lines name the files (relative to `cwd`, or absolute). Codex has no Read tool (it reads
 * through its shell), so its reads are not seen: no stale-write refusal for it.
 */

const FILE_LINE = /^\s*\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$/;

/** The files an apply_patch text touches, in order, each once. */
export function patchFiles(patch: string): string[] {
  const files = new Set<string>();
  for (const line of patch.split('\n')) {
    const m = FILE_LINE.exec(line);
    if (m?.[1]) files.add(m[1]);
  }
  return [...files];
}

function codexCall(tool: string | null, input: unknown): AgentToolCall | null {
  if (tool === null) return null;
  const fields = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  const command = text(fields.command, MAX_TEXT_LENGTH);
  if (tool === 'Bash') return command === null ? { kind: 'other', tool } : { kind: 'shell', tool, command };
  if (tool === 'apply_patch') {
    const files = command === null ? [] : patchFiles(command);
    return files.length === 0 ? { kind: 'other', tool } : { kind: 'edit', tool, files };
  }
  return { kind: 'other', tool };
}

export function parseCodex(payload: string): AgentHookEvent {
  return hookEvent(payloadObject(payload, 'Codex'), codexCall, false);
}
