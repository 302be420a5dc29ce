import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHarnError, openRegistry } from '../../src/api/index.js';
import { ancestry, clientProcess, isWrapperCommand, procCmdline, processIdentity, startedChain } from '../../src/core/process-tree.js';
import { BIN, cleanEnv, cli, statePath, tempDir } from '../helpers/cli.js';

// Issue 21: a caller is recognised by its process only when that process is surely its client: never pid 1
// or the subreaper that adopted an orphan, never a wrapper (`sh -c`, `npm exec`), never a process that
// hosts several sessions.

const HAS_PROC = fs.existsSync('/proc/self/stat');
const ROOT = path.resolve(import.meta.dirname, '../..');

const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const gitEnv = (extra: Record<string, string> = {}) => cleanEnv({ ...identity, HARN_AGENTS_BIN: BIN, ...extra });
const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env: gitEnv() });

const started: ChildProcess[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** A repository with a.ts committed and the guard installed as its pre-commit hook. */
function guardedRepo(): string {
  const ws = tempDir('harn-client-');
  git(ws, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(ws, 'a.ts'), 'a\n');
  git(ws, 'add', '.');
  expect(git(ws, 'commit', '-qm', 'init').status).toBe(0);
  expect(cli(['hook', 'install'], { cwd: ws }).code).toBe(0);
  return ws;
}

function recordedProcess(ws: string, id: number): { pid: number; start: number } | undefined {
  return JSON.parse(fs.readFileSync(statePath(ws), 'utf8')).harn?.agents?.[String(id)]?.process;
}

/**
 * An MCP server driven by hand over its stdio (newline-delimited JSON-RPC), so the test decides when the
 * session starts: after the process that started the server has exited.
 */
function rawSession(child: ChildProcess, input = child.stdin) {
  let buffer = '';
  const waiting = new Map<number, (message: { result?: { structuredContent?: Record<string, unknown>; isError?: boolean } }) => void>();
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const message = JSON.parse(line) as { id?: number; result?: { structuredContent?: Record<string, unknown>; isError?: boolean } };
      if (typeof message.id === 'number') waiting.get(message.id)?.(message);
    }
  });
  let next = 1;
  const send = (message: object) => input?.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  const request = (method: string, params: object) =>
    new Promise<{ result?: { structuredContent?: Record<string, unknown>; isError?: boolean } }>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      send({ id, method, params });
    });
  return {
    async start(): Promise<void> {
      await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'orphan', version: '1' } });
      send({ method: 'notifications/initialized' });
    },
    call: async (name: string, args: object = {}) => (await request('tools/call', { name, arguments: args })).result ?? {},
  };
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr?.on('data', (d: Buffer) => {
      text += d.toString();
      const match = pattern.exec(text);
      if (match) resolve(match[0]);
    });
    child.on('exit', () => reject(new Error(`exited before ${pattern}: ${text}`)));
  });
}

describe.runIf(HAS_PROC)('recognising a caller by its process, safely', () => {
  it('an MCP server whose parent has exited records no client: not pid 1, so no commit on the machine counts as its own', async () => {
    const ws = guardedRepo();
    // sh starts the server in the background and exits. The server's input is this test's fd 3 to sh (a
    // background job's stdin would be /dev/null, and node closes a child's stdin when the child exits).
    const sh = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" mcp 0<&3 3<&- & exit 0`], { cwd: ws, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    started.push(sh);
    await new Promise((resolve) => sh.on('exit', resolve));
    const input = sh.stdio[3] as import("node:stream").Writable;
    const session = rawSession(sh, input);
    await session.start();
    const me = (await session.call('whoami')).structuredContent as { id: number };
    expect((await session.call('lock', { paths: ['a.ts'] })).isError).toBeFalsy();
    expect(recordedProcess(ws, me.id)).toBeUndefined();
    // Any process's commit of the session's file, this test's included: refused.
    fs.appendFileSync(path.join(ws, 'a.ts'), 'mine\n');
    git(ws, 'add', 'a.ts');
    const commit = spawnSync('git', ['commit', '-qm', 'x'], { cwd: ws, encoding: 'utf8', env: gitEnv() });
    expect(commit.status).toBe(1);
    expect(commit.stderr).toMatch(/a\.ts: held by agent \d+ \(mcp: orphan\)/);
    input.end(); // the server ends with its stdin
  });

  it('an orphan adopted by a subreaper (in a session of its own) does not record the subreaper as its client', async () => {
    const ws = guardedRepo();
    // A subreaper (PR_SET_CHILD_SUBREAPER = 36) in its own session, as systemd --user is; the "client" runs
    // in a session of its own, starts the server and exits; the server is reparented to the subreaper. On
    // SIGUSR1 the subreaper runs a commit, as any process it supervises might.
    const script = `
import ctypes, os, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
subprocess.Popen(['sh', '-c', 'exec 3<&0; "$0" "$1" mcp 0<&3 3<&- & exit 0', sys.argv[1], sys.argv[2]], start_new_session=True).wait()
sys.stderr.write('client exited\\n'); sys.stderr.flush()
def commit(*_):
    r = subprocess.run(['git', 'commit', '-qm', 'x'], stdin=subprocess.DEVNULL, capture_output=True)
    sys.stderr.write('commit exit %d\\n' % r.returncode); sys.stderr.flush()
signal.signal(signal.SIGUSR1, commit)
while True: signal.pause()
`;
    const reaper = spawn('python3', ['-c', script, process.execPath, BIN], { cwd: ws, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    started.push(reaper);
    await waitForLine(reaper, /client exited/);
    const session = rawSession(reaper);
    await session.start();
    const me = (await session.call('whoami')).structuredContent as { id: number };
    expect((await session.call('lock', { paths: ['a.ts'] })).isError).toBeFalsy();
    const recorded = recordedProcess(ws, me.id);
    expect(recorded?.pid).not.toBe(reaper.pid);
    expect(recorded).toBeUndefined();
    fs.appendFileSync(path.join(ws, 'a.ts'), 'theirs\n');
    git(ws, 'add', 'a.ts');
    const committed = waitForLine(reaper, /commit exit \d+/);
    reaper.kill('SIGUSR1');
    expect(await committed).toBe('commit exit 1');
  });

  it('through a wrapper chain like npx (sh -c, node npx-cli.js, sh -c) the client is the process above the wrappers', async () => {
    const ws = guardedRepo();
    // A node wrapper named as npm's own script, started by sh -c and starting the server through sh -c, as
    // `npx harn-agents mcp` does.
    const bin = tempDir('harn-wrapper-');
    fs.writeFileSync(
      path.join(bin, 'npx-cli.js'),
      `const { spawnSync } = require('node:child_process');
const run = spawnSync('sh', ['-c', '"$0" "$1" mcp', process.execPath, ${JSON.stringify(BIN)}], { stdio: 'inherit' });
process.exit(run.status ?? 1);
`,
    );
    const transport = new StdioClientTransport({ command: 'sh', args: ['-c', `"${process.execPath}" "${path.join(bin, 'npx-cli.js')}"`], cwd: ws, env: cleanEnv() as Record<string, string> });
    const client = new Client({ name: 'wrapped', version: '1' });
    await client.connect(transport);
    clients.push(client);
    const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { id: number };
    expect((await client.callTool({ name: 'lock', arguments: { paths: ['a.ts'] } })).isError).toBeFalsy();
    expect(recordedProcess(ws, me.id)).toEqual(processIdentity(process.pid));
    // The client's own commit of its own locked file passes its hook.
    fs.appendFileSync(path.join(ws, 'a.ts'), 'mine\n');
    git(ws, 'add', 'a.ts');
    const commit = spawnSync('git', ['commit', '-qm', 'mine'], { cwd: ws, encoding: 'utf8', env: gitEnv() });
    expect(commit.stderr).toBe('');
    expect(commit.status).toBe(0);
  });

  it('through the real `npm exec` of the packed package, offline, the client is the process above npm', async () => {
    const ws = guardedRepo();
    const out = tempDir('harn-npx-');
    const packed = spawnSync(process.execPath, [path.join(ROOT, 'scripts/pack.mjs'), out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, HARN_PACK_NO_BUILD: '1' } });
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = packed.stdout.trim().split('\n').pop() ?? '';
    const transport = new StdioClientTransport({
      command: 'npm',
      args: ['exec', '--yes', '--offline', `--package=${tarball}`, '--', 'harn-agents', 'mcp'],
      cwd: ws,
      env: cleanEnv({ npm_config_cache: path.join(out, 'cache'), npm_config_update_notifier: 'false' }) as Record<string, string>,
    });
    const client = new Client({ name: 'npx', version: '1' });
    await client.connect(transport);
    clients.push(client);
    const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { id: number };
    expect(recordedProcess(ws, me.id)).toEqual(processIdentity(process.pid));
    expect((await client.callTool({ name: 'lock', arguments: { paths: ['a.ts'] } })).isError).toBeFalsy();
    expect(JSON.parse(cli(['--json', 'check', 'a.ts'], { cwd: ws }).stdout)).toMatchObject({ recognised: [me.id], conflicts: [] });
  });

  it('one client hosting two MCP sessions: neither is recognised by the process, and the refusal says to set HARN_AGENT_ID', async () => {
    const ws = guardedRepo();
    const connect = async (name: string) => {
      const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], cwd: ws, env: cleanEnv() as Record<string, string> });
      const client = new Client({ name, version: '1' });
      await client.connect(transport);
      clients.push(client);
      return client;
    };
    const a = await connect('session-a');
    const b = await connect('session-b');
    const idA = ((await a.callTool({ name: 'whoami', arguments: {} })).structuredContent as { id: number }).id;
    const idB = ((await b.callTool({ name: 'whoami', arguments: {} })).structuredContent as { id: number }).id;
    expect((await a.callTool({ name: 'lock', arguments: { paths: ['a.ts'] } })).isError).toBeFalsy();
    // B's own check sees the conflict; so does B's commit through the hook.
    expect((await b.callTool({ name: 'check', arguments: { paths: ['a.ts'] } })).structuredContent).toMatchObject({ conflicts: [{ path: 'a.ts' }] });
    fs.appendFileSync(path.join(ws, 'a.ts'), 'b\n');
    git(ws, 'add', 'a.ts');
    const commit = spawnSync('git', ['commit', '-qm', 'b'], { cwd: ws, encoding: 'utf8', env: gitEnv() });
    expect(commit.status).toBe(1);
    expect(commit.stderr).toContain(`agents ${idA} and ${idB} were started by one process, so neither is recognised by its process: set HARN_AGENT_ID`);
    const checked = JSON.parse(cli(['--json', 'check', 'a.ts'], { cwd: ws }).stdout);
    expect(checked).toMatchObject({ recognised: [], shared_process: [idA, idB], conflicts: [{ path: 'a.ts', holders: [{ agent: { id: idA } }] }] });
    // A, named, commits its own file.
    const asA = spawnSync('git', ['commit', '-qm', 'a'], { cwd: ws, encoding: 'utf8', env: gitEnv({ HARN_AGENT_ID: String(idA) }) });
    expect(asA.status).toBe(0);
  });

  it('the library refuses clientPid 1 and takes a wrapper for the client above it', async () => {
    const ws = tempDir();
    const registry = openRegistry({ cwd: ws });
    let refused: unknown;
    await registry.register('init', { clientPid: 1 }).catch((error: unknown) => (refused = error));
    expect(isHarnError(refused) && refused.exitCode === 2 && refused.message).toBe('clientPid: 1 is init, the ancestor of every process; pass the pid of the client itself');
    // A real sh -c wrapper whose parent is this process.
    const sh = spawn('sh', ['-c', 'read line'], { stdio: ['pipe', 'ignore', 'ignore'] });
    started.push(sh);
    const { id } = await registry.register('wrapped', { clientPid: sh.pid as number });
    expect(recordedProcess(ws, id)).toEqual(processIdentity(process.pid));
    sh.stdin?.end();
  });

  it('isWrapperCommand and clientProcess read real command lines', () => {
    expect(isWrapperCommand(['sh', '-c', 'x'])).toBe(true);
    expect(isWrapperCommand(['/bin/bash', '-ec', 'x'])).toBe(true);
    expect(isWrapperCommand(['npm', 'exec', 'harn-agents', 'mcp'])).toBe(true); // npm's title, as procCmdline reads it
    expect(isWrapperCommand(['/usr/bin/node', '/usr/lib/node_modules/npm/bin/npx-cli.js', 'harn-agents'])).toBe(true);
    expect(isWrapperCommand(['node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'exec'])).toBe(true);
    expect(isWrapperCommand(['sh', 'script.sh'])).toBe(false);
    expect(isWrapperCommand(['node', 'editor.js'])).toBe(false);
    expect(isWrapperCommand(['claude'])).toBe(false);
    // A real chain: this process -> sh -c -> sleep. The client of sleep is this process, past the wrapper.
    const sh = spawn('sh', ['-c', 'sleep 600; true'], { stdio: 'ignore' });
    started.push(sh);
    let sleeper = 0;
    for (let tries = 0; sleeper === 0 && tries < 1_000_000; tries++) {
      const children = fs.readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8').trim();
      if (children !== '') sleeper = Number(children.split(' ')[0]);
    }
    expect(clientProcess(ancestry(sleeper), procCmdline, startedChain)).toEqual(processIdentity(process.pid));
    expect(clientProcess(ancestry(sh.pid as number), procCmdline, startedChain)).toEqual(processIdentity(process.pid));
    process.kill(sleeper, 'SIGKILL'); // sh's child: killing sh alone (afterEach) would leave it running
  });
});
