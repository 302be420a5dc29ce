import { describe, expect, it } from 'vitest';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// Shared locks, resources with slots and pattern locks through the CLI, in-process, on every store: the
// state file, and PostgreSQL when HARN_TEST_POSTGRES_URL is set. Racing processes: test/e2e/lock-kinds.test.ts.
const PG_URL = process.env.HARN_TEST_POSTGRES_URL;
let counter = 0;
const STORES = [
  { name: 'file', fresh: (): string[] => [] },
  { name: 'postgres', fresh: (): string[] => ['--store', PG_URL ?? '', '--namespace', `kinds-${process.pid}-${Date.now()}-${counter++}`] },
];

const HOLD_KEYS = ['agent', 'expires_ms', 'kind', 'mode', 'path', 'reason', 'slots'];

/** Every hold in a JSON answer, wherever it is: objects with an `agent` and an `expires_ms`. */
function holdsIn(value: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(value)) for (const v of value) holdsIn(v, found);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('expires_ms' in o && ('agent' in o || 'holder' in o)) found.push(o);
    for (const v of Object.values(o)) holdsIn(v, found);
  }
  return found;
}

describe.each(STORES)('lock kinds on the $name store', (store) => {
  const enabled = store.name === 'file' || Boolean(PG_URL);
  function fresh() {
    const g = store.fresh();
    const cli = inProcessCli({ clock: testClock() });
    const run = (args: string[]) => cli.run([...g, ...args]);
    const json = async (args: string[]) => JSON.parse((await run(['--json', ...args])).stdout);
    return { run, json };
  }

  it.skipIf(!enabled)('two agents hold docs/x.md shared while an exclusive lock is refused, with when to retry and the reasons', async () => {
    const { run, json } = fresh();
    expect((await run(['lock', 'docs/x.md', '--shared', '--agent', '1', '--ttl', '1h', '--reason', 'reading the schema'])).code).toBe(0);
    expect((await run(['lock', 'docs/x.md', '--shared', '--agent', '2', '--ttl', '2h'])).code).toBe(0);
    const refused = await run(['--json', 'lock', 'docs/x.md', '--agent', '3']);
    expect(refused.code).toBe(1);
    const answer = JSON.parse(refused.stdout);
    expect(answer.conflicts).toHaveLength(1);
    expect(answer.conflicts[0].holders.map((h: { agent: { id: number }; mode: string; reason: string | null }) => [h.agent.id, h.mode, h.reason])).toEqual([
      [1, 'shared', 'reading the schema'],
      [2, 'shared', null],
    ]);
    // Free once both have expired: the later of the two (2 h), on the answer's own clock.
    const later = Math.max(...answer.conflicts[0].holders.map((h: { expires_ms: number }) => h.expires_ms));
    expect(answer.retry_after_ms).toBe(later - answer.now_ms);
    // An exclusive lock on the directory is refused too; a shared one beside them is granted.
    expect((await run(['lock', 'docs/', '--agent', '3'])).code).toBe(1);
    expect((await run(['lock', 'docs/', '--shared', '--agent', '3'])).code).toBe(0);
    // check counts a shared hold as a hold; holder lists every holder.
    expect((await run(['check', 'docs/x.md', '--agent', '4'])).code).toBe(1);
    const holders = await json(['holder', 'docs/x.md']);
    expect(holders[0].holders.map((h: { agent: { id: number }; path: string }) => [h.agent.id, h.path])).toEqual([
      [1, 'docs/x.md'],
      [2, 'docs/x.md'],
      [3, 'docs/'],
    ]);
    // The text names the mode.
    // (On PostgreSQL the server's time moved on since the lock: up to a second less than the hour is shown.)
    expect((await run(['lock', 'docs/x.md', '--agent', '4'])).stderr).toMatch(/^refused: docs\/x\.md is held by agent 1 \(agent-1\) \(shared\) \(reason: reading the schema\), expires in (1h|59m5\ds)\n/);
  });

  it.skipIf(!enabled)('an exclusive holder refuses shared locks on the path and under its directory', async () => {
    const { run } = fresh();
    expect((await run(['lock', 'lib/', '--agent', '1'])).code).toBe(0);
    expect((await run(['lock', 'lib/a.ts', '--shared', '--agent', '2'])).code).toBe(1);
    expect((await run(['lock', 'lib/', '--shared', '--agent', '2'])).code).toBe(1);
  });

  it.skipIf(!enabled)('@gpu --slots 2 admits exactly two, refuses the third, and admits it after a release; other slot counts are exit 2', async () => {
    const { run, json } = fresh();
    expect((await run(['lock', '@gpu', '--slots', '2', '--agent', '1'])).stdout).toMatch(/^locked @gpu \(one of 2 slots\) for agent 1/);
    expect((await run(['lock', '@gpu', '--slots', '2', '--agent', '2'])).code).toBe(0);
    const third = await run(['--json', 'lock', '@gpu', '--slots', '2', '--agent', '3']);
    expect(third.code).toBe(1);
    expect(JSON.parse(third.stdout).conflicts[0].holders.map((h: { agent: { id: number }; slots: number; kind: string }) => [h.agent.id, h.slots, h.kind])).toEqual([
      [1, 2, 'resource'],
      [2, 2, 'resource'],
    ]);
    const mismatch = await run(['lock', '@gpu', '--slots', '3', '--agent', '3']);
    expect(mismatch).toEqual({ code: 2, stdout: '', stderr: 'harn-agents: @gpu has 2 slots (agent 1 holds it so), not 3: lock it with --slots 2, or wait until its holders release it\n' });
    expect((await run(['lock', '@gpu', '--agent', '3'])).code).toBe(2);
    expect((await run(['release', '@gpu', '--agent', '1'])).code).toBe(0);
    expect((await run(['lock', '@gpu', '--slots', '2', '--agent', '3'])).code).toBe(0);
    // No directory meaning, no normalisation; bad combinations are exit 2.
    expect((await run(['lock', '@git/index', '--agent', '1'])).code).toBe(0);
    expect((await run(['lock', '@git/', '--agent', '2'])).code).toBe(0);
    expect((await run(['lock', '@db', '--shared', '--agent', '1'])).code).toBe(2);
    expect((await run(['lock', 'a.ts', '--slots', '2', '--agent', '1'])).code).toBe(2);
    expect((await run(['lock', '@', '--agent', '1'])).code).toBe(2);
    expect((await run(['lock', '@gpu', '--slots', '0', '--agent', '1'])).code).toBe(2);
    const status = await json(['status', '--locks']);
    expect(status.locks.filter((l: { path: string }) => l.path === '@gpu').map((l: { slots: number }) => l.slots)).toEqual([2, 2]);
  });

  it.skipIf(!enabled)('src/**/*.test.ts refuses src/a/b.test.ts and src/, admits src/a/b.ts; holder and check find it', async () => {
    const { run, json } = fresh();
    expect((await run(['lock', 'src/**/*.test.ts', '--agent', '1', '--reason', 'test refactor'])).code).toBe(0);
    expect((await run(['lock', 'src/a/b.test.ts', '--agent', '2'])).stderr).toContain('refused: src/a/b.test.ts is held by agent 1 (agent-1) through src/**/*.test.ts (reason: test refactor)');
    expect((await run(['lock', 'src/', '--agent', '2'])).code).toBe(1);
    expect((await run(['lock', 'src/a/b.ts', '--agent', '2'])).code).toBe(0);
    expect((await run(['lock', 'src/*/c.test.ts', '--agent', '3'])).code).toBe(1);
    expect((await run(['lock', 'src/*/c.js', '--agent', '3'])).code).toBe(0);
    expect((await run(['lock', '*.md', '--agent', '3'])).code).toBe(0);
    expect((await run(['lock', 'README.md', '--agent', '4'])).code).toBe(1);
    expect((await json(['holder', 'src/x/y/z.test.ts']))[0].holders).toMatchObject([{ path: 'src/**/*.test.ts', kind: 'pattern', agent: { id: 1 } }]);
    expect((await run(['check', 'src/q.test.ts', '--agent', '2'])).code).toBe(1);
    expect((await run(['check', 'src/q.ts', '--agent', '2'])).code).toBe(0);
    // A literal name with a special character, in brackets; bad patterns are exit 2.
    expect((await run(['lock', 'lib/[*].ts', '--agent', '2'])).code).toBe(0);
    expect((await run(['check', 'lib/*.ts', '--agent', '3'])).code).toBe(1);
    expect((await run(['check', 'lib/a.ts', '--agent', '3'])).code).toBe(0);
    expect((await run(['lock', 'lib/[ab', '--agent', '2'])).stderr).toMatch(/is not a pattern git accepts: it has an unclosed \[/);
    expect((await run(['lock', 'lib/*/', '--agent', '2'])).code).toBe(2);
  });

  it.skipIf(!enabled)('status shows mode, slots and patterns: table, rows into a pipe, --locks', async () => {
    const { run } = fresh();
    await run(['lock', 'docs/x.md', '--shared', '--agent', '1', '--ttl', '1h']);
    await run(['lock', '@gpu', '--slots', '2', '--agent', '1', '--ttl', '1h']);
    await run(['lock', 'src/**/*.ts', '--agent', '2', '--ttl', '1h']);
    const table = (await run(['status', '--table'])).stdout;
    expect(table).toMatch(/docs\/x\.md shared \(/);
    expect(table).toMatch(/@gpu 2 slots \(/);
    expect(table).toContain('src/**/*.ts (');
    const rows = (await run(['status'])).stdout;
    expect(rows).toMatch(/[\t ]docs\/x\.md=\d+:shared[ \n]/);
    expect(rows).toMatch(/[\t ]@gpu=\d+:slots=2[ \n]/);
    const locks = (await run(['status', '--locks', '--table'])).stdout;
    expect(locks).toMatch(/│ path +│ holder +│ mode +│ reason +│ time left │/);
    expect(locks).toMatch(/src\/\*\*\/\*\.ts \(pattern\) +│ 2 \(agent-2\) +│ exclusive/);
    expect(locks).toMatch(/@gpu +│ 1 \(agent-1\) +│ 2 slots/);
    expect((await run(['status', '--locks'])).stdout).toMatch(/^docs\/x\.md\t1\tagent-1\t-\t\d+\tshared\t-$/m);
    // --path with a pattern or a directory lists the locks that may overlap it.
    expect((await run(['--json', 'status', '--path', 'src/a.ts'])).stdout).toContain('src/**/*.ts');
  });

  it.skipIf(!enabled)('with-lock takes resources and shared locks as lock does, and releases them after the command', async () => {
    const { run, json } = fresh();
    // While the command runs it holds @db: the command itself asks who does.
    const ran = await run(['with-lock', '@db', '--slots', '2', '--', 'sh', '-c', 'exit 7']);
    expect(ran.code).toBe(7);
    expect((await json(['holder', '@db']))[0].holders).toEqual([]);
    expect((await run(['lock', '@db', '--agent', '1', '--ttl', '1h'])).code).toBe(0);
    const refused = await run(['with-lock', '@db', '--', 'true']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^refused: @db is held by agent 1 \(agent-1\), expires in/);
    // Shared: runs beside another shared holder; --shared on a resource is exit 2 before anything is registered.
    expect((await run(['lock', 'docs/x.md', '--shared', '--agent', '1'])).code).toBe(0);
    expect((await run(['with-lock', 'docs/x.md', '--shared', '--', 'true'])).code).toBe(0);
    expect((await run(['with-lock', 'docs/x.md', '--', 'true'])).code).toBe(1);
    expect((await run(['with-lock', '@db', '--shared', '--', 'true'])).code).toBe(2);
    expect((await json(['status', '--all'])).agents.map((a: { id: number }) => a.id)).toEqual([1]);
  });

  it.skipIf(!enabled)('every hold in every --json answer has one shape', async () => {
    const { run, json } = fresh();
    await run(['lock', 'docs/x.md', '--shared', '--agent', '1', '--reason', 'r']);
    await run(['lock', '@gpu', '--slots', '2', '--agent', '1']);
    await run(['lock', 'src/**/*.ts', '--agent', '2']);
    const answers = [
      await json(['lock', 'docs/x.md', 'src/a.ts', '@gpu', '--agent', '3', '--slots', '2']).catch(() => null),
      await json(['lock', 'docs/x.md', '--agent', '3']),
      await json(['lock', 'other.md', '--agent', '3', '--shared']),
      await json(['check', 'docs/x.md', 'src/a.ts', '--agent', '4']),
      await json(['holder', 'docs/x.md', '@gpu', 'src/']),
      await json(['status']),
      await json(['status', '--locks']),
      await json(['release', '--force', 'docs/x.md', '--reason', 'test']),
      await json(['release', '--force', 'src/a.ts', '--reason', 'test']),
    ];
    const holds = answers.flatMap((a) => holdsIn(a));
    expect(holds.length).toBeGreaterThan(12);
    for (const hold of holds) expect(Object.keys(hold).sort(), JSON.stringify(hold)).toEqual(HOLD_KEYS);
  });
});
