import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

// Messages that fit what the user typed (issue 14, "Output that fits its destination").

describe('with-lock without --', () => {
  it("gives the tool's own hint, not commander's complaint about the command's options", () => {
    const ws = tempDir();
    const r = cli(['with-lock', 'db/schema.sql', 'sh', '-c', 'true'], { cwd: ws });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('harn-agents: put -- before the command: harn-agents with-lock <path...> -- <command> [args...]\n');
    // With --, a mistyped option of ours is still refused with the suggestion.
    expect(cli(['with-lock', 'db/schema.sql', '--wiat', '5s', '--', 'true'], { cwd: ws }).stderr).toMatch(/unknown option '--wiat' \(Did you mean --wait\?\)/);
  });
});

describe('release --force on a file held through a directory lock', () => {
  it('names the directory lock that holds it (and leaves it alone) instead of "not locked by anyone"', () => {
    const ws = tempDir();
    cli(['lock', 'src/api/', '--agent', '3', '--ttl', '10m'], { cwd: ws });
    const r = cli(['release', '--force', 'src/api/users.ts', '--reason', 'stuck'], { cwd: ws });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^src\/api\/users\.ts is not locked itself: it is held through agent 3 \(agent-3\)'s lock on src\/api\/, left alone \(break that one: harn-agents release --force src\/api\/ --reason \.\.\.\)\n$/);
    expect(cli(['holder', 'src/api/users.ts'], { cwd: ws }).code).toBe(0);
    const json = JSON.parse(cli(['--json', 'release', '--force', 'src/api/users.ts', '--reason', 'stuck'], { cwd: ws }).stdout);
    expect(json.held_through).toMatchObject([{ path: 'src/api/users.ts', holders: [{ path: 'src/api/', kind: 'directory', agent: { id: 3, name: 'agent-3' } }] }]);
  });
});
