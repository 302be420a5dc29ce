import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, readState, tempDir } from '../helpers/cli.js';

// `harn-agents mcp` spawned as a real process and driven by the SDK's own client over stdio.

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
});

async function connect(ws: string, name: string, args: string[] = [], globals: string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...globals, 'mcp', ...args],
    cwd: ws,
    env: cleanEnv() as Record<string, string>,
    stderr: 'pipe',
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

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
    expect(tools.map((t) => t.name).sort()).toEqual(['check', 'heartbeat', 'holder', 'lock', 'release', 'status', 'whoami']);
    for (const tool of tools) {
      expect(tool.description?.length).toBeGreaterThan(10);
      expect(tool.inputSchema.type).toBe('object');
    }
  });

  it('registers a session agent named after the client, locks visibly to the CLI, refuses naming the holder, and cleans up on disconnect', async () => {
    const ws = tempDir();
    const client = await connect(ws, 'claude');
    const me = (await call(client, 'whoami')).structuredContent as { id: number; name: string; workspace: string };
    expect(me.name).toBe('mcp: claude');
    expect(me.workspace).toBe(ws);

    const locked = await call(client, 'lock', { paths: ['src/api.ts'], reason: 'refactor', ttl: '5m' });
    expect(locked.isError).toBeFalsy();
    expect(locked.structuredContent).toMatchObject({ granted: true, agent: me.id, paths: [{ path: 'src/api.ts', holder: { id: me.id } }] });
    expect(JSON.parse(locked.content[0]?.text ?? '{}').granted).toBe(true);
    expect(cli(['holder', 'src/api.ts'], { cwd: ws }).stdout).toMatch(/^src\/api\.ts: agent \d+ \(mcp: claude\) \(reason: refactor\)/);

    // Another agent, from the CLI, holds a path: the refusal is a normal result naming it.
    cli(['lock', 'src/db.ts', '--agent', '42', '--ttl', '1h'], { cwd: ws });
    const refused = await call(client, 'lock', { paths: ['src/db.ts'] });
    expect(refused.isError).toBeFalsy();
    expect(refused.structuredContent).toMatchObject({ granted: false, paths: [{ path: 'src/db.ts', holder: { id: 42, name: 'agent-42' } }] });
    const checked = await call(client, 'check', { paths: ['src/api.ts', 'src/db.ts'] });
    expect(checked.structuredContent).toMatchObject({ conflicts: [{ path: 'src/db.ts', holder: { id: 42 } }] });
    const holders = await call(client, 'holder', { paths: ['src/db.ts'] });
    expect(holders.structuredContent).toMatchObject({ result: [{ path: 'src/db.ts', holder: { id: 42 } }] });

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

  it('SIGTERM makes the server release its locks, unregister and exit, even with stdin still open', async () => {
    const ws = tempDir();
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], cwd: ws, env: cleanEnv() as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'terminated', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    await call(client, 'lock', { paths: ['t.ts'] });
    const pid = transport.pid as number;
    process.kill(pid, 'SIGTERM');
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    expect(readState(ws).agents).toEqual([]);
    expect(cli(['holder', 't.ts'], { cwd: ws }).code).toBe(1);
  });

  it('a server killed with -9 leaves an agent that is reaped after the agent timeout, like any crashed agent', async () => {
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
    clients.push(client);
    await call(client, 'lock', { paths: ['x.ts'], ttl: '1h' });
    expect(cli(['holder', 'x.ts'], { cwd: ws }).code).toBe(0);
    process.kill(transport.pid as number, 'SIGKILL');
    // Alive heartbeats kept it active so far; now silence: reaped once the 2 s timeout passes.
    await until(() => cli(['holder', 'x.ts'], { cwd: ws, env: { HARN_AGENT_TIMEOUT: '2s' } }).code === 1, 15_000);
    expect(readState(ws).agents[0]?.state).toBe('crashed');
  });
});
