import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, statePath, tempDir, writeState } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// doctor's printed fixes pasted into a real shell, as a user would: quoting, `unset`, and the built CLI on
// PATH. doctor's checks themselves run in-process in test/unit/doctor.test.ts.

/** A bin directory whose `harn-agents` runs the built CLI, so printed fix commands run as written. */
function binDir(): string {
  const dir = tempDir('harn-bin-');
  fs.writeFileSync(path.join(dir, 'harn-agents'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  return dir;
}
const BIN_DIR = binDir();

/** Run `script` (a printed fix, then whatever checks it) in a shell with the built CLI on PATH. */
function shell(script: string, cwd: string, env: Record<string, string> = {}) {
  return spawnSync('sh', ['-c', script], { cwd, env: cleanEnv({ ...env, PATH: `${BIN_DIR}:${process.env.PATH}` }), encoding: 'utf8' });
}

interface DoctorJson {
  checks: Array<{ check: string; ok: boolean; fix: string | null }>;
}
const fixes = async (cli: ReturnType<typeof inProcessCli>, args: string[], env: Record<string, string> = {}) =>
  ((await cli.json([...args, 'doctor'], env)).data as DoctorJson).checks.filter((c) => !c.ok).map((c) => c.fix);

describe('doctor fixes, pasted into a shell', () => {
  it('with -C to a directory with a space, the quoted fix works as printed', async () => {
    const parent = tempDir();
    const ws = path.join(parent, 'my ws');
    fs.mkdirSync(ws);
    writeState(ws, '{');
    const cli = inProcessCli({ ws: parent, clock: testClock(Date.now()) });
    const [fix] = await fixes(cli, ['-C', 'my ws']);
    expect(fix).toBe("harn-agents -C 'my ws' doctor --reset");
    const r = shell(`${fix} && harn-agents -C 'my ws' doctor`, parent);
    expect(r.status, r.stderr).toBe(0);
  });

  it('a stale state lock: the printed rm works; a HARN_* variable that does not parse: the printed unset does', async () => {
    const ws = tempDir();
    const cli = inProcessCli({ ws, clock: testClock(Date.now()) });
    expect((await cli.run(['register', 'a'])).code).toBe(0);
    const lockDir = `${statePath(ws)}.lock`;
    fs.mkdirSync(lockDir);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockDir, old, old);
    const [rm] = await fixes(cli, []);
    expect(rm).toBe(`rm -r ${lockDir}`);
    const removed = shell(`${rm} && harn-agents doctor`, ws);
    expect(removed.status, removed.stdout + removed.stderr).toBe(0);
    expect(fs.existsSync(lockDir)).toBe(false);

    const env = { HARN_LOCK_TTL: 'banana' };
    const [unset] = await fixes(cli, [], env);
    expect(unset).toBe('unset HARN_LOCK_TTL');
    const after = shell(`${unset}; harn-agents doctor`, ws, env);
    expect(after.status, after.stdout).toBe(0);
  });
});
