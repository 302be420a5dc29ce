import type { McpSettings } from '../commands/command.js';
import { formatSpan } from '../core/durations.js';

/**
 * The `instructions` of the initialize result: the lock discipline told to the model once, with this
 * server's real settings, so it need not infer it from the tool descriptions.
 */
export function mcpInstructions(settings: McpSettings): string {
  return [
    `harn-agents coordinates the agents (AI and human) editing the workspace ${settings.pathBase} through advisory per-file locks. This session is one agent (whoami tells its id).`,
    '- Lock before editing: call lock with every path you are about to change, in one call (all or none; a trailing / locks a whole directory).',
    "- Where the project installed harn-agents' agent hooks (Claude Code: hook install --claude-code), each file you edit is also claimed for you automatically until you commit it, and this session's locks count as yours there: locking ahead still reserves paths (a directory, a set of files) and waits for them.",
    `- Paths are relative to the workspace root ${settings.pathBase}, not to your current directory; absolute paths inside it work too.`,
    `- A lock is held until you release it or this session ends: the server renews it while you are connected, so never lock again just to keep it. Its TTL (${formatSpan(settings.lockTtlMs)} by default) only frees it if the server dies. Release paths when you are done with them.`,
    '- A refusal (granted: false) means another agent holds the path: do not edit it. Wait for it (lock with wait), tell the user who holds it and why, or work on something else.',
    '- Before committing, call check with the paths you changed; a conflict means another agent holds one of them: do not commit it.',
    '- A result with lost_locks means those locks are gone (broken by someone, or lapsed): you no longer hold those paths; lock them again before editing further.',
    '- Cancelling a lock request (or giving up on its wait) leaves nothing locked.',
  ].join('\n');
}
