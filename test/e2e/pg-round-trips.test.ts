import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

// What one CLI call costs the PostgreSQL server, counted exactly: with HARN_DEBUG the store says each
// statement it sends (each a round trip). Once the database and the namespace exist, each operation is one
// statement, its schema check included: lock, release and heartbeat run on the server in one function call
// (src/store/pg-native.ts), and a read is one query. Timings belong in `npm run bench`; this is what does not
// depend on the machine.
const PG_URL = process.env.HARN_TEST_POSTGRES_URL;

describe.skipIf(!PG_URL)('a PostgreSQL call in one round trip', () => {
  it('lock, holder, check, status, heartbeat and release each send one statement', () => {
    const ws = tempDir();
    const g = ['--store', PG_URL ?? '', '--namespace', `round-trips-${process.pid}-${Date.now()}`];
    const run = (...args: string[]) => {
      const r = cli([...g, ...args], { cwd: ws, env: { HARN_DEBUG: '1' } });
      const statements = r.stderr.split('\n').filter((line) => line.startsWith('harn-agents: debug: statement: '));
      return { code: r.code, stdout: r.stdout, statements };
    };
    // The first call prepares the namespace (several statements); from then on, one each.
    expect(run('register', 'editor').code).toBe(0);
    const calls: Array<[string[], number]> = [
      [['lock', 'src/a.ts', '--agent', '1', '--ttl', '1h'], 0],
      [['lock', 'src/a.ts', 'docs/', '--agent', '1', '--reason', 'renaming'], 0],
      [['holder', 'src/a.ts'], 0],
      [['check', 'src/b.ts'], 0],
      [['status', '--json'], 0],
      [['heartbeat', '1'], 0],
      [['release', 'src/a.ts', 'docs/', '--agent', '1'], 0],
    ];
    for (const [args, code] of calls) {
      const r = run(...args);
      expect({ args, code: r.code, statements: r.statements.length }, r.statements.join('\n')).toEqual({ args, code, statements: 1 });
    }
    // And they did what they say: the release left nothing held.
    expect(JSON.parse(run('--json', 'holder', 'src/a.ts', 'docs/').stdout)).toEqual([
      { path: 'src/a.ts', holders: [], retry_after_ms: null },
      { path: 'docs/', holders: [], retry_after_ms: null },
    ]);
  });
});
