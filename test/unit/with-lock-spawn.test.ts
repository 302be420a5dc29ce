import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { openContext } from '../../src/commands/create-context.js';
import { withLock } from '../../src/commands/with-lock.js';

// spawn() can throw synchronously (here: a NUL byte in an argument). with-lock must still clean up: no
// signal handler or timer left behind (the process would never exit and would ignore SIGTERM), locks released.
describe('with-lock when spawn() itself throws', () => {
  const dir = tempDir('harn-spawn-');

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
