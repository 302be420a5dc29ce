import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireStateLock } from '../../src/store/state-lock.js';
import { tempDir } from '../helpers/cli.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the state lock', () => {
  it('a lock it made but could not stamp is removed, and the failure is one exit-3 line naming the state file', async () => {
    const statePath = path.join(tempDir(), 'agents.json');
    vi.spyOn(fs, 'utimesSync').mockImplementation(() => {
      throw Object.assign(new Error('EPERM: operation not permitted, utime'), { code: 'EPERM' });
    });
    const error = await acquireStateLock(statePath, 100).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ exitCode: 3 });
    expect((error as Error).message).toBe(`cannot lock state file ${statePath}: EPERM: operation not permitted, utime`);
    expect(fs.existsSync(`${statePath}.lock`)).toBe(false);
  });
});
