import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openContext } from '../../src/commands/create-context.js';
import { withLock } from '../../src/commands/with-lock.js';

// spawn() can throw synchronously (here: a NUL byte in an argument). with-lock must still clean up: no
// signal handler or timer left behind (the process would never exit and would ignore SIGTERM), locks released.
describe('with-lock when spawn() itself throws', () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'harn-spawn-')));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports exit 126, releases the lock, unregisters its agent and leaves no SIGTERM handler', async () => {
    const ctx = openContext({ cwd: dir, config: {} });
    const before = process.listenerCount('SIGTERM');
    const result = await withLock(ctx, { paths: ['a.ts'], command: ['sh', '-c', 'true\0'], agent: null });
    expect(result).toMatchObject({ ran: true, exit_code: 126, signal: null, lost: null });
    expect(process.listenerCount('SIGTERM')).toBe(before);
    const state = JSON.parse(fs.readFileSync(path.join(dir, '.harn', 'agents.json'), 'utf8'));
    expect(state.agents).toEqual([]);
  });
});
