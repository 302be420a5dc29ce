import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir, writeState } from '../helpers/cli.js';

// The CLI writes its output with synchronous writes to fd 1 and 2 instead of through process.stdout (which
// would load Node's stream modules on every call). These tests hold it to what process.stdout gave.

/** A registry whose `status --json` is a few MB, far beyond a pipe's buffer. */
function bigWorkspace(): string {
  const ws = tempDir();
  const now = Date.now();
  const agents = Array.from({ length: 3000 }, (_, i) => {
    const locks = Array.from({ length: 10 }, (_, j) => `"src/pkg-${i}/module-${j}.ts":${now + 3_600_000}`).join(',');
    return `{"id":${i + 1},"name":"agent-${i + 1}","state":"active","last_seen_ms":${now},"edit_count":0,"locked_paths":{${locks}}}`;
  });
  writeState(ws, `{"next_id":${agents.length + 1},"agents":[${agents.join(',')}]}\n`);
  return ws;
}

describe('output', () => {
  it('arrives whole through a non-blocking pipe that fills up (a parent that shares its own stdout)', async () => {
    const ws = bigWorkspace();
    // The parent touches process.stdout, which makes the pipe it shares with the CLI non-blocking, then runs
    // the CLI on the same pipe; this test reads that pipe slowly, so the CLI's writes meet a full pipe.
    const parent = `process.stdout; require('node:child_process').spawnSync(process.execPath, ${JSON.stringify([BIN, 'status', '--json'])}, { stdio: 'inherit' }).status === 0 || process.exit(9);`;
    const child = spawn(process.execPath, ['-e', parent], { cwd: ws, env: cleanEnv({ HARN_AGENT_TIMEOUT: '3650d' }) });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 5);
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const status = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { agents: unknown[] };
    expect(status.agents).toHaveLength(3000);
  });
});
