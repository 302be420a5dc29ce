import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

// One validation for every face (issue 19): the CLI passes options as typed, the library and the MCP server
// as given, and the use case checks each value once, naming it as the calling face does: `--ttl` on the
// command line, `ttl` in the library and over MCP. Same rule, same message, same exit code 2.

// The validators, wrapped to count the values each is asked to check (src/ imports them from this module).
vi.mock(import('../../src/core/validate.js'), async (original) => {
  const real = await original();
  return {
    ...real,
    agentId: vi.fn(real.agentId),
    optionalAgentId: vi.fn(real.optionalAgentId),
    agentName: vi.fn(real.agentName),
    optionalDuration: vi.fn(real.optionalDuration),
    optionalReason: vi.fn(real.optionalReason),
  };
});

// Fresh copies of the modules under test, importing the wrapped validators even in a worker that loaded them
// for an earlier file (vitest.config.ts: files share a worker's modules).
vi.resetModules();
const validate = await import('../../src/core/validate.js');
const { isHarnError, openRegistry } = await import('../../src/api/index.js');
const { openContext } = await import('../../src/commands/create-context.js');
const { DEFAULT_CONFIG, MAX_SLOTS } = await import('../../src/core/registry.js');
const { ToolSession } = await import('../../src/mcp/session.js');
const { removeTempDirs, tempDir } = await import('../helpers/cli.js');
const { inProcessCli } = await import('../helpers/in-process.js');

afterAll(removeTempDirs);

/** How many times `check` was asked about one of `values`. */
function checksOf(check: (...args: never[]) => unknown, ...values: unknown[]): number {
  return vi.mocked(check).mock.calls.filter(([value]) => values.includes(value)).length;
}

/** A library registry and an MCP session (without a transport) over one fresh workspace. */
async function faces() {
  const ws = tempDir();
  const registry = openRegistry({ cwd: ws });
  const ctx = openContext({ cwd: ws, config: DEFAULT_CONFIG });
  const session = new ToolSession(ctx, { lockTtlMs: 30_000, agentTimeoutMs: 45_000, pathBase: ctx.workspace.root }, () => undefined);
  session.agent = { id: (await registry.register('mcp: t')).id, name: 'mcp: t' };
  const cli = inProcessCli({ ws });
  /** The text an MCP client gets for a tool call's error, or the result when there is none. */
  const mcp = async (tool: string, args: Record<string, unknown>) => {
    try {
      return { ok: await session.call(tool, args, new AbortController().signal, 1) };
    } catch (error) {
      const [content] = session.errorResult(error).content;
      return { error: content?.type === 'text' ? content.text : undefined, code: isHarnError(error) ? error.exitCode : null };
    }
  };
  /** The library's refusal: message and exit code. */
  const library = async (call: () => Promise<unknown>) => {
    try {
      return { ok: await call() };
    } catch (error) {
      return { error: (error as Error).message, code: isHarnError(error) ? error.exitCode : null };
    }
  };
  return { ws, registry, session, cli, mcp, library };
}

beforeEach(() => vi.clearAllMocks());

describe('each value is checked once per call, whatever the face', () => {
  it('lock on the command line, in the library and over MCP', async () => {
    const { cli, registry, mcp } = await faces();
    expect((await cli.run(['lock', 'a.ts', '--agent', '5', '--ttl', '7m', '--wait', '3s', '--reason', 'cli-why'])).code).toBe(0);
    expect(checksOf(validate.optionalReason, 'cli-why')).toBe(1);
    expect(checksOf(validate.optionalDuration, '7m', 420_000)).toBe(1);
    expect(checksOf(validate.optionalDuration, '3s', 3_000)).toBe(1);

    vi.clearAllMocks();
    await registry.lock(['b.ts'], { agent: 6, ttl: '7m', reason: 'library-why' });
    expect(checksOf(validate.optionalReason, 'library-why')).toBe(1);
    expect(checksOf(validate.optionalDuration, '7m', 420_000)).toBe(1);

    vi.clearAllMocks();
    expect((await mcp('lock', { paths: ['c.ts'], ttl: '7m', reason: 'mcp-why' })).ok?.structuredContent).toMatchObject({ granted: true });
    expect(checksOf(validate.optionalReason, 'mcp-why')).toBe(1);
    expect(checksOf(validate.optionalDuration, '7m', 420_000)).toBe(1);
  });

  it('agent ids, from an option, an argument or HARN_AGENT_ID', async () => {
    const { cli } = await faces();
    const ids = () => checksOf(validate.agentId, 41) + checksOf(validate.optionalAgentId, 41);
    expect((await cli.run(['lock', 'a.ts', '--agent', '41'])).code).toBe(0);
    expect(ids()).toBe(1);
    for (const argv of [['heartbeat'], ['note-edit'], ['release', 'a.ts'], ['check', 'a.ts'], ['status', '--agent', '41']]) {
      vi.clearAllMocks();
      const run = await cli.run(argv, { HARN_AGENT_ID: '41' });
      expect(run.code, `${argv.join(' ')}: ${run.stderr}`).toBe(0);
      expect(ids(), argv.join(' ')).toBe(1);
    }
  });

  it('with-lock: its own options and the lock it takes, each once', async () => {
    const { cli } = await faces();
    const run = await cli.run(['with-lock', '@gpu', '--slots', '2', '--ttl', '7m', '--reason', 'wl-why', '--name', 'wl-name', '--kill-after', '9s', '--', 'true']);
    expect(run.code, run.stderr).toBe(0);
    expect(checksOf(validate.optionalReason, 'wl-why')).toBe(1);
    expect(checksOf(validate.agentName, 'wl-name')).toBe(1);
    expect(checksOf(validate.optionalDuration, '7m', 420_000)).toBe(1);
    expect(checksOf(validate.optionalDuration, '9s', 9_000)).toBe(1);
  });

  it('register, log and prune', async () => {
    const { cli, registry } = await faces();
    expect((await cli.run(['register', 'r', '--timeout', '8h'])).code).toBe(0);
    expect((await cli.run(['log', '--since', '5m'])).code).toBe(0);
    expect((await cli.run(['prune', '--older-than', '2d'])).code).toBe(0);
    await registry.register('s', { timeout: '8h' });
    await registry.log({ since: '5m' });
    await registry.prune({ olderThan: '2d' });
    expect(checksOf(validate.optionalDuration, '8h', 28_800_000)).toBe(2);
    expect(checksOf(validate.optionalDuration, '5m', 300_000)).toBe(2);
    expect(checksOf(validate.optionalDuration, '2d', 172_800_000)).toBe(2);
  });
});

describe('one rule, one message and exit code 2 from every face, in its own names', () => {
  it('a lock TTL of zero', async () => {
    const { cli, registry, mcp, library } = await faces();
    const message = "the duration must be greater than zero (got '0')";
    expect(await cli.run(['lock', 'a.ts', '--agent', '1', '--ttl', '0'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: --ttl: ${message}\n` });
    expect(await library(() => registry.lock(['a.ts'], { agent: 1, ttl: '0' }))).toEqual({ error: `ttl: ${message}`, code: 2 });
    expect(await mcp('lock', { paths: ['a.ts'], ttl: '0' })).toEqual({ error: `harn-agents: ttl: ${message}`, code: 2 });
  });

  it('zero slots: the command line names --slots for 0 as for text (it used to say "slots" for 0)', async () => {
    const { cli, registry, mcp, library } = await faces();
    const rule = `must be a whole number from 1 to ${MAX_SLOTS}`;
    expect(await cli.run(['lock', '@gpu', '--agent', '1', '--slots', '0'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: --slots ${rule}; got 0\n` });
    expect(await cli.run(['lock', '@gpu', '--agent', '1', '--slots', 'two'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: --slots ${rule}; got 'two'\n` });
    expect(await cli.run(['with-lock', '@gpu', '--slots', '0', '--', 'true'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: --slots ${rule}; got 0\n` });
    expect(await library(() => registry.lock(['@gpu'], { agent: 1, slots: 0 }))).toEqual({ error: `slots ${rule}; got 0`, code: 2 });
    expect(await mcp('lock', { paths: ['@gpu'], slots: 0 })).toEqual({ error: `harn-agents: slots ${rule}; got 0`, code: 2 });
  });

  it('a blank reason', async () => {
    const { cli, registry, mcp, library } = await faces();
    expect(await cli.run(['lock', 'a.ts', '--agent', '1', '--reason', ' '])).toEqual({ code: 2, stdout: '', stderr: 'harn-agents: --reason must not be empty\n' });
    expect(await cli.run(['with-lock', 'a.ts', '--reason', ' ', '--', 'true'])).toEqual({ code: 2, stdout: '', stderr: 'harn-agents: --reason must not be empty\n' });
    expect(await cli.run(['release', 'a.ts', '--agent', '1', '--reason', ' '])).toEqual({ code: 2, stdout: '', stderr: 'harn-agents: --reason must not be empty\n' });
    expect(await library(() => registry.lock(['a.ts'], { agent: 1, reason: ' ' }))).toEqual({ error: 'reason must not be empty', code: 2 });
    expect(await mcp('lock', { paths: ['a.ts'], reason: ' ' })).toEqual({ error: 'harn-agents: reason must not be empty', code: 2 });
  });

  it('durations of the other commands: --kill-after, --timeout, --since, --older-than, mcp --ttl', async () => {
    const { cli, registry, mcp, library } = await faces();
    const notADuration = (name: string, text: string) => `${name}: '${text}' is not a duration (use e.g. 1500ms, 30s, 5m, 1h, or a number of ms)`;
    const refused = (name: string, text: string) => ({ code: 2, stdout: '', stderr: `harn-agents: ${notADuration(name, text)}\n` });
    expect(await cli.run(['with-lock', 'a.ts', '--kill-after', 'soon', '--', 'true'])).toEqual(refused('--kill-after', 'soon'));
    expect(await cli.run(['register', 'r', '--timeout', 'soon'])).toEqual(refused('--timeout', 'soon'));
    expect(await cli.run(['log', '--since', 'soon'])).toEqual(refused('--since', 'soon'));
    expect(await cli.run(['prune', '--older-than', 'soon'])).toEqual(refused('--older-than', 'soon'));
    expect(await cli.run(['status', '--watch', '--interval', 'soon'])).toEqual(refused('--interval', 'soon'));
    expect(await cli.run(['mcp', '--ttl', 'soon'])).toEqual(refused('--ttl', 'soon'));
    expect(await library(() => registry.register('r', { timeout: 'soon' }))).toEqual({ error: notADuration('timeout', 'soon'), code: 2 });
    expect(await library(() => registry.log({ since: 'soon' }))).toEqual({ error: notADuration('since', 'soon'), code: 2 });
    expect(await library(() => registry.prune({ olderThan: 'soon' }))).toEqual({ error: notADuration('olderThan', 'soon'), code: 2 });
    expect(await mcp('prune', { olderThan: 'soon' })).toEqual({ error: `harn-agents: ${notADuration('olderThan', 'soon')}`, code: 2 });
  });

  it('an agent id that is not one, named as it was given', async () => {
    const { cli, registry, library } = await faces();
    const notAnId = (name: string, value: string) => `${name}: ${value} is not an agent id (a whole number from 0 to ${validate.MAX_AGENT_ID})`;
    expect(await cli.run(['lock', 'a.ts', '--agent', 'x1'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${notAnId('--agent', "'x1'")}\n` });
    expect(await cli.run(['lock', 'a.ts'], { HARN_AGENT_ID: 'x1' })).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${notAnId('HARN_AGENT_ID', "'x1'")}\n` });
    expect(await cli.run(['heartbeat', 'x1'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${notAnId('an agent id', "'x1'")}\n` });
    expect(await cli.run(['unregister', 'x1'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${notAnId('id', "'x1'")}\n` });
    expect(await cli.run(['unregister', '1', '--agent', 'x1'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${notAnId('--agent', "'x1'")}\n` });
    expect(await cli.run(['register', 'r', '--id', '1'], { HARN_AGENT_ID: 'x1' })).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${notAnId('HARN_AGENT_ID', "'x1'")}\n` });
    expect(await cli.run(['with-lock', 'a.ts', '--agent', '-3', '--', 'true'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${notAnId('--agent', "'-3'")}\n` });
    expect(await cli.run(['status', '--agent', '1.5'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${notAnId('--agent', "'1.5'")}\n` });
    expect(await library(() => registry.lock(['a.ts'], { agent: 'x1' as unknown as number }))).toEqual({ error: notAnId('agent', "'x1'"), code: 2 });
  });

  it("check --hook: a bad HARN_AGENT_ID is the hook's failure (exit 1, the edit goes on), not a refusal of the edit (exit 2)", async () => {
    const { cli } = await faces();
    const payload = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: 'a.ts' } });
    expect(await cli.run(['check', '--hook', 'claude-code'], { HARN_AGENT_ID: 'x1' }, payload)).toEqual({
      code: 1,
      stdout: '',
      stderr: `harn-agents: --hook claude-code: HARN_AGENT_ID: 'x1' is not an agent id (a whole number from 0 to ${validate.MAX_AGENT_ID})\n`,
    });
  });

  it('an id beyond the ones an agent can be registered under', async () => {
    const { cli, registry, library } = await faces();
    const beyond = (name: string) => `${name}: 4294967296 is beyond the ids an agent can be registered under (0 to 4294967295); leave the id out to get the next free one`;
    expect(await cli.run(['register', 'r', '--id', '4294967296'])).toEqual({ code: 2, stdout: '', stderr: `harn-agents: ${beyond('--id')}\n` });
    expect(await cli.run(['register', 'r', '--id', 'seven'])).toEqual({
      code: 2,
      stdout: '',
      stderr: `harn-agents: --id: 'seven' is not an agent id (a whole number from 0 to ${validate.MAX_AGENT_ID})\n`,
    });
    expect(await library(() => registry.register('r', { id: 2 ** 32 }))).toEqual({ error: beyond('id'), code: 2 });
  });
});
