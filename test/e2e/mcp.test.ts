import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { isHarnError, openRegistry } from '../../src/api/index.js';
import { COMMANDS } from '../../src/commands/index.js';
import { BIN, cleanEnv, cli, readState, statePath, tempDir } from '../helpers/cli.js';

// `harn-agents mcp` spawned as a real process and driven by the SDK's own client over stdio.

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
});

async function connect(ws: string, name: string, args: string[] = [], globals: string[] = []): Promise<Client> {
  return (await session(ws, name, args, globals)).client;
}

/** Closes a client when its test ends: a concurrent test's own `onTestFinished` (afterEach cannot tell its clients apart). */
type Closer = (close: () => Promise<void>) => void;

/**
 * A session with its server's process id and everything it wrote on stderr so far; closed after the test
 * (by `closer` in a concurrent test).
 */
async function session(ws: string, name: string, args: string[] = [], globals: string[] = [], closer?: Closer) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...globals, 'mcp', ...args],
    cwd: ws,
    env: cleanEnv() as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  if (closer) closer(() => client.close().catch(() => undefined));
  else clients.push(client);
  return { client, pid: transport.pid as number, stderr: () => stderr };
}

const exited = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

type ToolResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content: Array<{ type: string; text?: string }> };
const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
  (await client.callTool({ name, arguments: args })) as ToolResult;

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('harn-agents mcp', () => {
  it('lists its tools, each with a schema and a description', async () => {
    const ws = tempDir();
    const client = await connect(ws, 'lister');
    const { tools } = await client.listTools();
    // The tools served are the ones the commands declare (src/commands/<name>.ts, `mcp`), with their annotations.
    const declared = COMMANDS.flatMap((c) => ('mcp' in c && c.mcp ? [c.mcp] : []));
    expect(tools.map((t) => t.name).sort()).toEqual(declared.map((m) => m.tool).sort());
    expect(declared.map((m) => m.tool)).toEqual(expect.arrayContaining(['lock', 'release', 'holder', 'check', 'status', 'heartbeat', 'whoami']));
    for (const m of declared) {
      expect(tools.find((t) => t.name === m.tool)?.annotations).toEqual({ readOnlyHint: m.readOnly, destructiveHint: m.destructive ?? false });
    }
    for (const tool of tools) {
      expect(tool.description?.length).toBeGreaterThan(10);
      expect(tool.inputSchema.type).toBe('object');
    }
  });

  it('shared locks and resource slots through MCP: results match the output schemas and name every holder', async () => {
    const ws = tempDir();
    const a = await connect(ws, 'reader-a');
    const b = await connect(ws, 'reader-b');
    const c = await connect(ws, 'writer');
    // The SDK's client validates each structuredContent against the tool's outputSchema (callTool throws on a mismatch).
    expect((await call(a, 'lock', { paths: ['docs/x.md'], shared: true, reason: 'reading' })).structuredContent).toMatchObject({ granted: true, locks: [{ mode: 'shared' }] });
    expect((await call(b, 'lock', { paths: ['docs/x.md'], shared: true })).structuredContent).toMatchObject({ granted: true });
    const refused = await call(c, 'lock', { paths: ['docs/x.md'] });
    expect(refused.isError).toBeFalsy();
    const answer = refused.structuredContent as { granted: boolean; retry_after_ms: number; conflicts: Array<{ holders: Array<{ mode: string; reason: string | null }> }> };
    expect(answer.granted).toBe(false);
    expect(answer.conflicts[0]?.holders.map((h) => [h.mode, h.reason])).toEqual([
      ['shared', 'reading'],
      ['shared', null],
    ]);
    expect(answer.retry_after_ms).toBeGreaterThan(0);
    expect(refused.content[0]?.text).toMatch(/^refused: docs\/x\.md is held by agent \d+ \(mcp: reader-a\) \(shared\) \(reason: reading\), expires in .*; docs\/x\.md is held by agent \d+ \(mcp: reader-b\) \(shared\)/);
    expect((await call(a, 'lock', { paths: ['@gpu'], slots: 2 })).structuredContent).toMatchObject({ granted: true, locks: [{ kind: 'resource', slots: 2 }] });
    expect((await call(b, 'lock', { paths: ['@gpu'], slots: 2 })).structuredContent).toMatchObject({ granted: true });
    expect((await call(c, 'lock', { paths: ['@gpu'], slots: 2 })).structuredContent).toMatchObject({ granted: false });
    const mismatch = await call(c, 'lock', { paths: ['@gpu'], slots: 3 });
    expect(mismatch.isError).toBe(true);
    expect(mismatch.content[0]?.text).toMatch(/@gpu has 2 slots/);
    expect((await call(c, 'holder', { paths: ['docs/x.md', '@gpu'] })).structuredContent).toMatchObject({ result: [{ holders: [{}, {}] }, { holders: [{}, {}] }] });
    expect((await call(c, 'whoami')).structuredContent).toMatchObject({ locks: [] });
    expect((await call(a, 'whoami')).structuredContent).toMatchObject({ locks: [{ path: 'docs/x.md', mode: 'shared' }, { path: '@gpu', slots: 2 }] });
  });

  it('registers a session agent named after the client, locks visibly to the CLI, refuses naming the holder, and cleans up on disconnect', async () => {
    const ws = tempDir();
    const client = await connect(ws, 'claude');
    const me = (await call(client, 'whoami')).structuredContent as { id: number; name: string; workspace: string };
    expect(me.name).toBe('mcp: claude');
    expect(me.workspace).toBe(ws);

    const locked = await call(client, 'lock', { paths: ['src/api.ts'], reason: 'refactor', ttl: '5m' });
    expect(locked.isError).toBeFalsy();
    expect(locked.structuredContent).toMatchObject({ granted: true, agent: me.id, locks: [{ path: 'src/api.ts', agent: { id: me.id }, mode: 'exclusive', reason: 'refactor' }] });
    // The text is a line for the model, then the same data as JSON.
    const [line, json] = (locked.content[0]?.text ?? '').split('\n');
    expect(line).toBe('locked src/api.ts until you release it (renewed while this session is connected)');
    expect(JSON.parse(json ?? '{}')).toEqual(locked.structuredContent);
    expect(cli(['holder', 'src/api.ts'], { cwd: ws }).stdout).toMatch(/^src\/api\.ts: agent \d+ \(mcp: claude\) \(reason: refactor\)/);

    // Another agent, from the CLI, holds a path: the refusal is a normal result naming it.
    cli(['lock', 'src/db.ts', '--agent', '42', '--ttl', '1h'], { cwd: ws });
    const refused = await call(client, 'lock', { paths: ['src/db.ts'] });
    expect(refused.isError).toBeFalsy();
    expect(refused.structuredContent).toMatchObject({ granted: false, conflicts: [{ path: 'src/db.ts', holders: [{ agent: { id: 42, name: 'agent-42' } }] }] });
    const checked = await call(client, 'check', { paths: ['src/api.ts', 'src/db.ts'] });
    expect(checked.structuredContent).toMatchObject({ conflicts: [{ path: 'src/db.ts', holders: [{ agent: { id: 42 } }] }] });
    const holders = await call(client, 'holder', { paths: ['src/db.ts'] });
    expect(holders.structuredContent).toMatchObject({ result: [{ path: 'src/db.ts', holders: [{ agent: { id: 42 } }] }] });

    await client.close();
    await until(() => !readState(ws).agents.some((a) => a.id === me.id));
    expect(cli(['holder', 'src/api.ts'], { cwd: ws }).code).toBe(1);
    expect(readState(ws).agents.map((a) => a.id)).toEqual([42]);
  });

  it('bad input is a tool error with the CLI message; --name names the agent', async () => {
    const ws = tempDir();
    const client = await connect(ws, 'whatever', ['--name', 'builder']);
    expect(((await call(client, 'whoami')).structuredContent as { name: string }).name).toBe('mcp: builder');
    const outside = await call(client, 'lock', { paths: ['../outside.ts'] });
    expect(outside.isError).toBe(true);
    expect(outside.content[0]?.text).toMatch(/^harn-agents: '\.\.\/outside\.ts' is outside the workspace/);
    const noPaths = await call(client, 'lock', {});
    expect(noPaths.isError).toBe(true);
    expect(noPaths.content[0]?.text).toMatch(/paths must be a non-empty array of strings/);
    const badTtl = await call(client, 'lock', { paths: ['a'], ttl: 'soon' });
    expect(badTtl.content[0]?.text).toMatch(/ttl: 'soon' is not a duration/);
    const released = await call(client, 'release', { paths: ['a'] });
    expect(released.structuredContent).toMatchObject({ released: [], not_held: ['a'] });
    expect((await call(client, 'heartbeat')).structuredContent).toMatchObject({ state: 'active' });
    expect((await call(client, 'status')).structuredContent).toMatchObject({ agents: [{ name: 'mcp: builder' }] });
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s makes the server release its locks, unregister and exit, even with stdin still open', async (signal) => {
    const ws = tempDir();
    const { client, pid } = await session(ws, 'terminated');
    expect((await call(client, 'lock', { paths: ['t.ts'] })).structuredContent).toMatchObject({ granted: true });
    process.kill(pid, signal);
    await until(() => exited(pid));
    expect(readState(ws).agents).toEqual([]);
    expect(cli(['holder', 't.ts'], { cwd: ws }).code).toBe(1);
  });

  it('a tool call with wrong types is a clean error result, the same one the library gives, and changes nothing', async () => {
    const ws = tempDir();
    const client = await connect(ws, 'typo');
    const me = (await call(client, 'whoami')).structuredContent as { id: number };
    const before = fs.readFileSync(statePath(ws));
    // The library over a scratch workspace: its message for the same input is the one the tool must give.
    const scratch = tempDir();
    const library = openRegistry({ cwd: scratch }) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const cases: Array<[string, Record<string, unknown>, () => Promise<unknown>]> = [
      ['lock', { paths: 'a.ts' }, () => library.lock!('a.ts', { agent: me.id })],
      ['lock', { paths: [] }, () => library.lock!([], { agent: me.id })],
      ['lock', { paths: ['a.ts', 5] }, () => library.lock!(['a.ts', 5], { agent: me.id })],
      ['lock', { paths: ['a.ts'], ttl: 1.5 }, () => library.lock!(['a.ts'], { agent: me.id, ttl: 1.5 })],
      ['lock', { paths: ['a.ts'], ttl: {} }, () => library.lock!(['a.ts'], { agent: me.id, ttl: {} })],
      ['lock', { paths: ['a.ts'], ttl: -1 }, () => library.lock!(['a.ts'], { agent: me.id, ttl: -1 })],
      ['lock', { paths: ['a.ts'], wait: true }, () => library.lock!(['a.ts'], { agent: me.id, wait: true })],
      ['lock', { paths: ['a.ts'], reason: 'r'.repeat(5000) }, () => library.lock!(['a.ts'], { agent: me.id, reason: 'r'.repeat(5000) })],
      ['release', { paths: 'a.ts' }, () => library.release!('a.ts', { agent: me.id })],
      ['holder', { paths: [null] }, () => library.holder!([null])],
      ['check', { paths: {} }, () => library.check!({}, { agent: me.id })],
      ['status', { path: 5 }, () => library.status!({ pathPrefix: 5 })],
    ];
    for (const [tool, args, same] of cases) {
      const expected = await same().then(
        () => 'the library accepted it',
        (error: unknown) => (isHarnError(error) && error.exitCode === 2 ? `harn-agents: ${error.message}` : String(error)),
      );
      const result = await call(client, tool, args);
      expect({ tool, args, isError: result.isError, text: result.content[0]?.text }).toEqual({ tool, args, isError: true, text: expected });
    }
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
    expect(fs.existsSync(statePath(scratch))).toBe(false);
    // The session goes on.
    expect((await call(client, 'lock', { paths: ['a.ts'], ttl: 60_000 })).structuredContent).toMatchObject({ granted: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('states its real settings: instructions with the lock discipline, descriptions with --ttl, the agent timeout and the workspace root', async () => {
    const ws = tempDir();
    const client = await connect(ws, 'reader', ['--ttl', '10m'], ['--agent-timeout', '2m']);
    const instructions = client.getInstructions() ?? '';
    for (const phrase of ['Lock before editing', `relative to the workspace root ${ws}`, 'until you release it or this session ends', 'renews', 'Before committing, call check', 'do not edit it', '10m']) {
      expect(instructions).toContain(phrase);
    }
    const { tools } = await client.listTools();
    const tool = (name: string) => tools.find((t) => t.name === name);
    expect(tool('lock')?.description).toContain('default 10m');
    expect(JSON.stringify(tool('lock')?.inputSchema)).toContain('default 10m');
    expect(JSON.stringify(tool('lock')?.inputSchema)).not.toContain('default 30s');
    expect(tool('heartbeat')?.description).toContain('agent timeout 2m');
    for (const name of ['lock', 'release', 'holder', 'check']) expect(JSON.stringify(tool(name)?.inputSchema)).toContain(`relative to the workspace root ${ws}`);
    expect((await call(client, 'whoami')).structuredContent).toMatchObject({ paths_relative_to: ws, lock_ttl_ms: 600_000, agent_timeout_ms: 120_000 });
  });

  it("without flags the session follows the workspace's settings; its agent keeps its own timeout and records its client, whose process tree check recognises", async () => {
    const ws = tempDir();
    expect(cli(['config', 'set', 'agent-timeout', '2m'], { cwd: ws }).code).toBe(0);
    expect(cli(['config', 'set', 'lock-ttl', '10m'], { cwd: ws }).code).toBe(0);
    const client = await connect(ws, 'settled');
    const me = (await call(client, 'whoami')).structuredContent as { id: number; lock_ttl_ms: number; agent_timeout_ms: number };
    expect(me).toMatchObject({ lock_ttl_ms: 600_000, agent_timeout_ms: 120_000 });
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'heartbeat')?.description).toContain('agent timeout 2m');
    // The agent's timeout is its own: a later change of the workspace's setting does not shorten it.
    expect(cli(['config', 'set', 'agent-timeout', '1s'], { cwd: ws }).code).toBe(0);
    const status = JSON.parse(cli(['--json', 'status'], { cwd: ws }).stdout) as { agents: Array<{ id: number; timeout_ms: number; own_timeout: boolean }> };
    expect(status.agents.find((a) => a.id === me.id)).toMatchObject({ timeout_ms: 120_000, own_timeout: true });
    expect((await call(client, 'lock', { paths: ['x.ts'] })).isError).toBeFalsy();
    if (!fs.existsSync('/proc/self/stat')) return;
    // The client is this test's process (the server's parent): a check run from its process tree, as a
    // commit hook of the client would be, knows the session's lock as the caller's own.
    expect(JSON.parse(fs.readFileSync(statePath(ws), 'utf8')).harn.agents[String(me.id)].process.pid).toBe(process.pid);
    const checked = cli(['--json', 'check', 'x.ts'], { cwd: ws });
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ recognised: [me.id], conflicts: [] });
  });

  it("every tool's result matches its outputSchema and carries now_ms and a line for the model", async () => {
    const ws = tempDir();
    const client = await connect(ws, 'validator');
    const { tools } = await client.listTools();
    const validator = new AjvJsonSchemaValidator();
    cli(['lock', 'held.ts', '--agent', '42', '--ttl', '1h', '--reason', 'theirs'], { cwd: ws });
    const calls: Array<[string, Record<string, unknown>]> = [
      ['whoami', {}],
      ['lock', { paths: ['a.ts', 'dir/'], reason: 'mine' }],
      ['lock', { paths: ['held.ts'] }],
      ['holder', { paths: ['a.ts', 'held.ts', 'free.ts'] }],
      ['check', { paths: ['a.ts', 'held.ts'] }],
      ['check', { paths: ['a.ts'] }],
      ['status', {}],
      ['status', { path: 'dir/' }],
      ['heartbeat', {}],
      ['release', { paths: ['a.ts', 'never.ts'] }],
      ['prune', {}],
    ];
    expect(new Set(calls.map(([name]) => name))).toEqual(new Set(tools.map((t) => t.name)));
    for (const [name, args] of calls) {
      const tool = tools.find((t) => t.name === name);
      expect(tool?.outputSchema?.type, name).toBe('object');
      // The SDK's client already checks structuredContent against the schema (callTool throws if not): this
      // checks it again by hand, so a client that does not validate cannot hide a mismatch.
      const result = await call(client, name, args);
      expect(result.isError, name).toBeFalsy();
      expect(validator.getValidator(tool?.outputSchema as never)(result.structuredContent), name).toMatchObject({ valid: true });
      expect(typeof result.structuredContent?.now_ms, name).toBe('number');
      const [line, json] = (result.content[0]?.text ?? '').split('\n');
      expect(line?.length, name).toBeGreaterThan(5);
      expect(JSON.parse(json ?? 'null'), name).toEqual(result.structuredContent);
    }
    const refused = await call(client, 'lock', { paths: ['held.ts'] });
    expect(refused.content[0]?.text).toMatch(/^refused: held\.ts is held by agent 42 \(agent-42\) \(reason: theirs\), expires in \d+m\d*s?; nothing was locked/);
  });

  it('takes paths from the workspace root, not the server directory (-C into a subdirectory)', async () => {
    const ws = tempDir();
    fs.mkdirSync(path.join(ws, '.git'));
    fs.mkdirSync(path.join(ws, 'src'));
    const client = await connect(ws, 'nested', [], ['-C', 'src']);
    const me = (await call(client, 'whoami')).structuredContent as { id: number; workspace: string; paths_relative_to: string };
    expect(me).toMatchObject({ workspace: ws, paths_relative_to: ws });
    expect((await call(client, 'lock', { paths: ['src/api.ts', path.join(ws, 'README.md')] })).structuredContent).toMatchObject({
      granted: true,
      locks: [{ path: 'src/api.ts' }, { path: 'README.md' }],
    });
    expect(Object.keys(readState(ws).agents.find((a) => a.id === me.id)?.locked_paths ?? {}).sort()).toEqual(['README.md', 'src/api.ts']);
    expect((await call(client, 'holder', { paths: ['src/api.ts'] })).structuredContent).toMatchObject({ result: [{ path: 'src/api.ts', holders: [{ agent: { id: me.id } }] }] });
    expect((await call(client, 'release', { paths: ['src/api.ts'] })).structuredContent).toMatchObject({ released: ['src/api.ts'] });
  });

  // The tests from here on wait on real time (TTLs, agent timeouts, a client's patience), each with its own
  // server and workspace: side by side, not one after the other.
  it.concurrent('a server killed with -9 leaves an agent that is reaped after the agent timeout, like any crashed agent', async ({ onTestFinished }) => {
    const ws = tempDir();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, '--agent-timeout', '2s', 'mcp'],
      cwd: ws,
      env: cleanEnv() as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'doomed', version: '1.0.0' });
    await client.connect(transport);
    onTestFinished(() => client.close().catch(() => undefined));
    await call(client, 'lock', { paths: ['x.ts'], ttl: '1h' });
    expect(cli(['holder', 'x.ts'], { cwd: ws }).code).toBe(0);
    process.kill(transport.pid as number, 'SIGKILL');
    // Alive heartbeats kept it active so far; now silence: reaped once the 2 s timeout passes.
    await until(() => cli(['holder', 'x.ts'], { cwd: ws, env: { HARN_AGENT_TIMEOUT: '2s' } }).code === 1, 15_000);
    expect(readState(ws).agents[0]?.state).toBe('crashed');
  });

  it.concurrent('keeps its locks past many TTLs and agent timeouts while the client is connected, renewing them', async ({ onTestFinished }) => {
    const ws = tempDir();
    // A 2 s TTL, renewed every 667 ms; the agent is reaped after 3 s of silence by any call that reaps.
    const { client } = await session(ws, 'keeper', ['--ttl', '2s'], ['--agent-timeout', '3s'], onTestFinished);
    const me = (await call(client, 'whoami')).structuredContent as { id: number };
    const locked = (await call(client, 'lock', { paths: ['kept.ts'] })).structuredContent as { locks: Array<{ expires_ms: number }> };
    const firstExpiry = locked.locks[0]?.expires_ms ?? 0;
    // Other processes ask (and reap, with the same 3 s timeout) until the registry's time is three TTLs past
    // the first expiry; every answer names this session as the holder.
    let nowMs = 0;
    while (nowMs <= firstExpiry + 6_000) {
      const status = JSON.parse(cli(['--json', 'status'], { cwd: ws, env: { HARN_AGENT_TIMEOUT: '3s' } }).stdout) as {
        now_ms: number;
        agents: Array<{ id: number; state: string; locks: Array<{ path: string; expires_ms: number }> }>;
      };
      nowMs = status.now_ms;
      const agent = status.agents.find((a) => a.id === me.id);
      expect(agent?.state).toBe('active');
      expect(agent?.locks.map((l) => l.path)).toEqual(['kept.ts']);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const whoami = (await call(client, 'whoami')).structuredContent as { locks: Array<{ path: string; expires_ms: number }> };
    expect(whoami.locks.map((l) => l.path)).toEqual(['kept.ts']);
    expect(whoami.locks[0]?.expires_ms).toBeGreaterThan(firstExpiry + 6_000);
  });

  it.concurrent('a server killed with -9 stops renewing: its lock is freed by its TTL, long before its agent times out', async ({ onTestFinished }) => {
    const ws = tempDir();
    const { client, pid } = await session(ws, 'doomed', ['--ttl', '2s'], ['--agent-timeout', '1h'], onTestFinished);
    const me = (await call(client, 'whoami')).structuredContent as { id: number };
    await call(client, 'lock', { paths: ['x.ts'] });
    process.kill(pid, 'SIGKILL');
    await until(() => exited(pid));
    await until(() => cli(['holder', 'x.ts'], { cwd: ws, env: { HARN_AGENT_TIMEOUT: '1h' } }).code === 1, 15_000);
    // Not reaped (its timeout is an hour): the lock's own TTL freed the path.
    expect(readState(ws).agents.find((a) => a.id === me.id)?.state).toBe('active');
  });

  it.concurrent('a lock lost anyway (broken with release --force) is not taken again, and the next result and stderr say so', async ({ onTestFinished }) => {
    const ws = tempDir();
    const { client, stderr } = await session(ws, 'victim', ['--ttl', '1s'], ['--agent-timeout', '1h'], onTestFinished);
    const me = (await call(client, 'whoami')).structuredContent as { id: number };
    await call(client, 'lock', { paths: ['broken.ts', 'kept.ts'] });
    expect(cli(['release', '--force', 'broken.ts', '--reason', 'stuck'], { cwd: ws }).code).toBe(0);
    await until(() => stderr().includes(`agent ${me.id} lost its lock on broken.ts`));
    // The renewal that noticed did not take it back, and no later one will: the session stopped tracking it.
    expect(cli(['holder', 'broken.ts'], { cwd: ws }).code).toBe(1);
    const next = await call(client, 'status');
    expect(next.structuredContent?.lost_locks).toEqual([{ path: 'broken.ts', holders: [], retry_after_ms: null }]);
    expect(next.content[0]?.text).toMatch(/^LOST LOCKS: you no longer hold broken\.ts;/);
    // Told once; the other lock is still held and renewed.
    expect((await call(client, 'status')).structuredContent?.lost_locks).toBeUndefined();
    expect(((await call(client, 'whoami')).structuredContent as { locks: Array<{ path: string }> }).locks.map((l) => l.path)).toEqual(['kept.ts']);
    expect(cli(['holder', 'broken.ts'], { cwd: ws }).code).toBe(1);
  });

  it.concurrent.for(['timeout', 'abort'] as const)('a lock whose wait the client gives up on (%s) stops waiting and leaves no lock', async (how, { onTestFinished }) => {
    const ws = tempDir();
    const { client, stderr } = await session(ws, 'impatient', [], [], onTestFinished);
    const me = (await call(client, 'whoami')).structuredContent as { id: number };
    cli(['lock', 'contended.ts', '--agent', '42', '--ttl', '1h'], { cwd: ws });
    const controller = new AbortController();
    const pending = client.callTool({ name: 'lock', arguments: { paths: ['contended.ts'], wait: '10m' } }, undefined, how === 'timeout' ? { timeout: 300 } : { signal: controller.signal });
    if (how === 'abort') setTimeout(() => controller.abort('the user pressed Esc'), 300);
    await expect(pending).rejects.toThrow();
    // The server says it stopped; only then is the path freed, so a server still waiting would take it.
    await until(() => /request \d+ cancelled by the client: the lock on contended\.ts was cancelled; nothing was locked/.test(stderr()));
    expect(cli(['release', 'contended.ts', '--agent', '42'], { cwd: ws }).code).toBe(0);
    expect(((await call(client, 'whoami')).structuredContent as { locks: unknown[] }).locks).toEqual([]);
    expect(cli(['holder', 'contended.ts'], { cwd: ws }).code).toBe(1);
    expect(readState(ws).agents.find((a) => a.id === me.id)?.locked_paths).toEqual({});
  });
});
