import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { BIN, cleanEnv, tempDir } from './cli.js';

/**
 * Claude Code sessions played as separate processes (test/fixtures/fake-claude.mjs): each runs the project's
 * installed hooks exactly as Claude Code does, then performs the tool. A session here is a process whose
 * pid is the client its hooks see, as a real Claude Code process is.
 */

const FAKE_CLAUDE = path.resolve(import.meta.dirname, '../fixtures/fake-claude.mjs');

export interface ToolAnswer {
  readonly allowed: boolean;
  readonly reason: string | null;
  readonly context: string | null;
  readonly output: string | null;
  readonly exitCode?: number | null;
  readonly error?: string;
  readonly hookErrors: readonly string[];
}

export interface FakeSession {
  readonly id: string;
  readonly process: ChildProcessWithoutNullStreams;
  ask(request: Record<string, unknown>): Promise<ToolAnswer>;
  end(): Promise<void>;
}

/** A directory holding a `harn-agents` that runs the built CLI: the hooks call it by name, as installed. */
export function harnOnPath(): string {
  const dir = tempDir('harn-bin-');
  fs.writeFileSync(path.join(dir, 'harn-agents'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  return dir;
}

export const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };

export function sessionEnv(binDir: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ ...GIT_ENV, PATH: `${binDir}:${process.env.PATH ?? ''}`, ...extra });
}

export function startSession(project: string, id: string, env: NodeJS.ProcessEnv, cwd = project): FakeSession {
  const child = spawn(process.execPath, [FAKE_CLAUDE, project, id, cwd], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: Array<(answer: ToolAnswer) => void> = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  readline.createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as ToolAnswer));
  return {
    id,
    process: child,
    ask: (request) =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`session ${id} has exited: ${stderr}`));
        waiting.push(resolve);
        child.stdin.write(`${JSON.stringify(request)}\n`);
      }),
    end: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

export function sh(cwd: string, command: string, env: NodeJS.ProcessEnv = cleanEnv(GIT_ENV)): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A git repository with `files` committed (each holding an END line edits insert before). */
export function repoWith(files: readonly string[]): string {
  const repo = tempDir('harn-sessions-');
  sh(repo, 'git init -q -b main');
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
    fs.writeFileSync(path.join(repo, f), `// ${f}\nEND\n`);
  }
  sh(repo, 'git add -A && git commit -qm base');
  return repo;
}
