import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentHook, type AgentHookOptions } from '../../src/commands/agent-hook.js';
import { SESSION_LEASE_MS } from '../../src/commands/agent-session.js';
import { openContext } from '../../src/commands/create-context.js';
import { hostName } from '../../src/core/host.js';
import { parseClaudeCode } from '../../src/hooks/agents/claude-code.js';
import { tempDir } from '../helpers/cli.js';
import { testClock } from '../helpers/in-process.js';

// The session use cases in-process, on an injected clock and injected process liveness: what time and
// processes do to claims without waiting for either.

function workspace() {
  const ws = tempDir();
  fs.writeFileSync(path.join(ws, 'a.ts'), 'a\n');
  const clock = testClock();
  const alive = new Set<number>();
  const ctx = openContext({ cwd: ws, config: {}, clock, processAlive: (p) => alive.has(p.pid) });
  const call = (session: string, pid: number, payload: Record<string, unknown>, host = hostName()) => {
    const event = parseClaudeCode(JSON.stringify({ session_id: session, transcript_path: '/t.jsonl', cwd: ws, ...payload }));
    const options: AgentHookOptions = { client: 'claude-code', event, process: { pid, start: 1 }, host };
    return agentHook(ctx, options);
  };
  const read = (session: string, pid: number, host?: string) =>
    call(session, pid, { hook_event_name: 'PostToolUse', tool_name: 'Read', tool_input: { file_path: path.join(ws, 'a.ts') }, tool_response: {} }, host);
  const edit = (session: string, pid: number, host?: string) =>
    call(session, pid, { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: path.join(ws, 'a.ts'), old_string: 'a', new_string: 'b' } }, host);
  return { ws, clock, alive, call, read, edit };
}

describe('a session over time', () => {
  it('keeps its claims through 20 minutes (or a day) of thinking while its process runs', async () => {
    const { clock, alive, read, edit } = workspace();
    alive.add(101).add(202);
    await read('one', 101);
    expect(await edit('one', 101)).toMatchObject({ decision: 'allow', claimed: ['a.ts'] });
    clock.now += 20 * 60_000;
    await read('two', 202);
    expect(await edit('two', 202)).toMatchObject({ decision: 'deny', reason: expect.stringMatching(/a\.ts is held by agent 1 \(claude-code one\) \(editing\), last claimed 20 min ago/) });
    // Far past its lease: a running process keeps it alive (renewed by anyone's call before any reap).
    clock.now += 3 * SESSION_LEASE_MS;
    expect(await edit('two', 202)).toMatchObject({ decision: 'deny' });
  });

  it('ends at the next call once its process is gone: unchanged claims freed, and no TTL waited for', async () => {
    const { clock, alive, read, edit } = workspace();
    alive.add(101).add(202);
    await read('one', 101);
    await edit('one', 101); // claimed, file still as it was
    alive.delete(101);
    clock.now += 1_000;
    await read('two', 202);
    expect(await edit('two', 202)).toMatchObject({ decision: 'allow', claimed: ['a.ts'] });
  });

  it('on another host (its process cannot be seen) lives by its lease, renewed by its calls', async () => {
    const { clock, alive, read, edit } = workspace();
    alive.add(202);
    await read('remote', 303, 'elsewhere');
    await edit('remote', 303, 'elsewhere');
    clock.now += SESSION_LEASE_MS - 1_000;
    await read('two', 202);
    expect(await edit('two', 202)).toMatchObject({ decision: 'deny' });
    clock.now += 2_000;
    expect(await edit('two', 202)).toMatchObject({ decision: 'allow' });
  });
});

describe('hostile payloads, in-process', () => {
  it('wrong types, unknown events and tools, paths outside the workspace: allowed, nothing claimed or written', async () => {
    const { ws, call } = workspace();
    const answers = await Promise.all([
      call('s', 1, { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: 'not an object' }),
      call('s', 1, { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: 42 } }),
      call('s', 1, { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: '/etc/passwd' } }),
      call('s', 1, { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: `${ws}/../outside.ts` } }),
      call('s', 1, { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: path.join(ws, '.harn/agents.json') } }),
      call('s', 1, { hook_event_name: 'Frobnicate', tool_name: 'Edit', tool_input: { file_path: path.join(ws, 'a.ts') } }),
      call('s', 1, { hook_event_name: 'PreToolUse', tool_name: 'Teleport', tool_input: { file_path: path.join(ws, 'a.ts') } }),
      call('s', 1, { hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: ['git', 'add', '-A'] } }),
      call('s', 1, { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: `x${'y'.repeat(2 * 1024 * 1024)}` } }),
    ]);
    for (const a of answers) expect(a).toMatchObject({ decision: 'allow', claimed: [] });
    expect(fs.existsSync(path.join(ws, '.harn'))).toBe(false);
  });

  it('a session id of the wrong type or size is no session: nothing happens', async () => {
    const { ws } = workspace();
    for (const session_id of [7, null, '', 'x'.repeat(600), 'a\0b']) {
      const event = parseClaudeCode(JSON.stringify({ session_id, cwd: ws, hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: { file_path: path.join(ws, 'n.ts') } }));
      expect(event.session).toBeNull();
    }
  });
});
