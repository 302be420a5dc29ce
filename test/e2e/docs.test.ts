import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The fenced block of `lang` that follows `heading` in a docs file: the docs are run as written. */
function snippet(file: string, heading: string, lang: string): string {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const at = text.indexOf(heading);
  expect(at, `${heading} in ${file}`).toBeGreaterThanOrEqual(0);
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text.slice(at));
  expect(match).not.toBeNull();
  return match?.[1] ?? '';
}

/** A bin directory whose `harn-agents` runs the built CLI, as an installed package would. */
function binDir(): string {
  const dir = tempDir('harn-bin-');
  fs.writeFileSync(path.join(dir, 'harn-agents'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  return dir;
}

const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv() });

describe('the README walkthrough', () => {
  it('runs on a throwaway copy of .harn-example and leaves the repo unchanged', () => {
    const before = fs.readFileSync(path.join(ROOT, '.harn-example/.harn/agents.json'), 'utf8');
    const result = spawnSync('bash', [path.join(ROOT, '.harn-example/walkthrough.sh')], { encoding: 'utf8', env: cleanEnv() });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/reaped agent 1 \(old-editor\)/);
    expect(result.stdout).toMatch(/refused: src\/api\.ts is held by agent 2 \(editor\)/);
    expect(result.stdout).toMatch(/src\/db\.ts: free/);
    expect(result.stdout).toMatch(/│ id │ name/);
    expect(result.stdout).not.toContain('\x1b['); // piped: no colour or bold codes
    expect(fs.readFileSync(path.join(ROOT, '.harn-example/.harn/agents.json'), 'utf8')).toBe(before);
  });
});

describe('docs/recipes.md', () => {
  it('the pre-commit hook refuses a commit touching a file another agent holds, and allows the holder', () => {
    const repo = tempDir('harn-repo-');
    git(repo, 'init', '-q');
    git(repo, 'config', 'user.email', 't@example.com');
    git(repo, 'config', 'user.name', 't');
    const hook = path.join(repo, '.git/hooks/pre-commit');
    fs.writeFileSync(hook, snippet('docs/recipes.md', '## A git pre-commit hook', 'sh'), { mode: 0o755 });
    fs.writeFileSync(path.join(repo, 'free.txt'), 'x');
    fs.writeFileSync(path.join(repo, 'my file.txt'), 'x');
    const env = { PATH: `${binDir()}:${process.env.PATH}` };
    expect(cli(['register', 'other'], { cwd: repo }).stdout).toBe('1\n');
    expect(cli(['register', 'me'], { cwd: repo }).stdout).toBe('2\n');
    expect(cli(['lock', 'my file.txt', '--agent', '1', '--ttl', '1h'], { cwd: repo }).code).toBe(0);

    git(repo, 'add', 'free.txt');
    const ok = spawnSync('git', ['commit', '-qm', 'free'], { cwd: repo, encoding: 'utf8', env: cleanEnv(env) });
    expect(ok.status, ok.stderr).toBe(0);

    git(repo, 'add', 'my file.txt');
    const refused = spawnSync('git', ['commit', '-qm', 'held'], { cwd: repo, encoding: 'utf8', env: cleanEnv(env) });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/my file\.txt: held by agent 1 \(other\)/);
    expect(refused.stderr).toMatch(/commit refused/);

    const asHolder = spawnSync('git', ['commit', '-qm', 'held'], { cwd: repo, encoding: 'utf8', env: cleanEnv({ ...env, HARN_AGENT_ID: '1' }) });
    expect(asHolder.status, asHolder.stderr).toBe(0);

    // A staged rename of the locked file: its old name is checked too (--no-renames).
    git(repo, 'mv', 'my file.txt', 'renamed.txt');
    const renamed = spawnSync('git', ['commit', '-qm', 'rename'], { cwd: repo, encoding: 'utf8', env: cleanEnv(env) });
    expect(renamed.status).toBe(1);
    expect(renamed.stderr).toMatch(/my file\.txt: held by agent 1/);
  });

  it('the CI step fails while the file is locked and passes once it is free', () => {
    const ws = tempDir();
    const step = snippet('docs/recipes.md', '## A CI job that fails', 'yaml');
    const script = step.slice(step.indexOf('run: |') + 'run: |'.length).replace(/^ {6}/gm, '').replaceAll('npx harn-agents', 'harn-agents');
    const env = cleanEnv({ PATH: `${binDir()}:${process.env.PATH}` });
    fs.mkdirSync(path.join(ws, '.harn'));
    expect(spawnSync('bash', ['-c', script], { cwd: ws, env }).status).toBe(0);
    cli(['lock', 'db/schema.sql', '--agent', '3'], { cwd: ws });
    const blocked = spawnSync('bash', ['-c', script], { cwd: ws, env, encoding: 'utf8' });
    expect(blocked.status).toBe(1);
    expect(blocked.stdout).toMatch(/db\/schema\.sql: agent 3 \(agent-3\)/);
  });

  it('the lock-holding script runs to the end and leaves nothing locked', () => {
    const ws = tempDir();
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.writeFileSync(path.join(ws, 'migrate.sh'), '#!/bin/sh\necho "step $1"\n', { mode: 0o755 });
    const script = snippet('docs/recipes.md', '## A shell script that holds a lock', 'sh');
    const result = spawnSync('bash', ['-c', script], { cwd: ws, encoding: 'utf8', env: cleanEnv({ PATH: `${binDir()}:${process.env.PATH}` }) });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/step 3/);
    expect(JSON.parse(cli(['--json', 'status'], { cwd: ws }).stdout).agents).toEqual([]);
  });
});
