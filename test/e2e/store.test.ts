import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HarnError } from '../../src/core/errors.js';
import { DEFAULT_CONFIG } from '../../src/core/registry.js';
import { FileStore } from '../../src/store/file-store.js';
import { findWorkspace } from '../../src/store/workspace.js';
import { cli, statePath, tempDir } from '../helpers/cli.js';

// The file store in-process, for what a spawned CLI cannot be made to do on cue.
describe('FileStore', () => {
  it('a transaction that stalls past the lock refresh window writes nothing and fails with exit 4', async () => {
    const ws = tempDir();
    expect(cli(['register', 'before'], { cwd: ws }).code).toBe(0);
    const before = fs.readFileSync(statePath(ws), 'utf8');
    const store = new FileStore({ workspace: findWorkspace(ws, {}), config: DEFAULT_CONFIG, clock: Date.now });
    const stalled = store.transact('update', ({ registry, nowMs }) => {
      registry.register('during-stall', nowMs);
      // Blocked synchronously (the lock's refresh timer cannot run), asleep rather than spinning: the other
      // test files keep the CPU.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4_300);
    });
    await expect(stalled).rejects.toThrow(HarnError);
    await expect(stalled).rejects.toMatchObject({ exitCode: 4 });
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(before);
    // And the lock was released: the next call proceeds at once.
    expect(cli(['register', 'after'], { cwd: ws, env: { HARN_STATE_LOCK_WAIT: '1s' } }).code).toBe(0);
  });

  it('a transaction that stays inside the window writes', async () => {
    const ws = tempDir();
    const store = new FileStore({ workspace: findWorkspace(ws, {}), config: DEFAULT_CONFIG, clock: Date.now });
    const id = await store.transact('update', ({ registry, nowMs }) => registry.register('quick', nowMs));
    expect(id).toBe(1);
    expect(JSON.parse(fs.readFileSync(statePath(ws), 'utf8')).agents[0].name).toBe('quick');
  });
});
