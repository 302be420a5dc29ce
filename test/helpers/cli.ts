import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../bin/harn-agents.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly cwd: string;
  readonly env?: Record<string, string | undefined>;
  readonly input?: string;
}

/**
 * An environment free of the caller's HARN_* settings, so tests see only what they set. The PostgreSQL
 * session keeper is off unless a test turns it on (HARN_PG_KEEPER=on): a call then owns its session, which
 * the fault tests end on purpose; test/e2e/pg-keeper.test.ts and the keeper's store suite use it.
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HARN_PG_KEEPER: 'off' };
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('HARN_') && key !== 'FORCE_COLOR') env[key] = value;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Run the built CLI synchronously, as a user's shell would. */
export function cli(args: readonly string[], options: CliOptions): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    input: options.input ?? '',
    encoding: 'utf8',
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Run the built CLI without blocking, for tests where processes race. */
export function cliAsync(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

const made: string[] = [];

/** A fresh temporary directory (symlinks resolved, as the CLI reports paths), removed after the test file. */
export function tempDir(prefix = 'harn-test-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

/** Remove every directory tempDir made, also ones a test left unreadable or unwritable. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // A test took permissions away (chmod 000): give them back, then remove.
      spawnSync('chmod', ['-R', 'u+rwx', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

export function statePath(workspace: string): string {
  return path.join(workspace, '.harn', 'agents.json');
}

export function readState(workspace: string): {
  next_id: number;
  agents: Array<{ id: number; name: string; state: string; last_seen_ms: number; edit_count: number; locked_paths: Record<string, number> }>;
} {
  return JSON.parse(fs.readFileSync(statePath(workspace), 'utf8'));
}

export function writeState(workspace: string, text: string): void {
  fs.mkdirSync(path.join(workspace, '.harn'), { recursive: true });
  fs.writeFileSync(statePath(workspace), text);
}
