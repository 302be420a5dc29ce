import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// The seed's Rust snapshot types read a state file holding every kind of lock. serde is not available
// offline here, so the reader (test/fixtures/seed-reader/reader.rs) parses the JSON with std into the seed's
// own SerializedRegistry/SerializedAgent types as serde's derive would, and the seed's AgentRegistry
// (/work/shared/seed/agents.rs, or HARN_SEED_AGENTS_RS, with its serde attributes removed) answers
// lock_holder and try_lock. Needs rustc (skipped, saying so, without it).
const SEED = process.env.HARN_SEED_AGENTS_RS ?? '/work/shared/seed/agents.rs';
const rustc = spawnSync('rustc', ['--version']).status === 0;
const haveSeed = fs.existsSync(SEED);
if (!rustc || !haveSeed) console.warn(`[harn-agents] ${rustc ? `no seed source at ${SEED}` : 'no rustc'}: the seed reader test is skipped`);

/** The seed's module without serde: its derives and attributes dropped, nothing else changed. */
function seedWithoutSerde(source: string): string {
  return source
    .replace(/^use serde::\{[^}]*\};\n/m, '')
    .replace(/#\[derive\(([^)]*)\)\]/g, (_all, list: string) => `#[derive(${list.split(',').map((s) => s.trim()).filter((s) => s !== 'Serialize' && s !== 'Deserialize').join(', ')})]`)
    .replace(/^\s*#\[serde\([^)]*\)\]\n/gm, '');
}

describe('the seed reads a state file holding every kind of lock', () => {
  it.skipIf(!rustc || !haveSeed)('a seed reader sees shared locks, resource slots, patterns and directories as held, never as free', async () => {
    const T0 = 1_800_000_000_000;
    const { ws, run } = inProcessCli({ clock: testClock(T0) });
    for (const args of [
      ['lock', 'docs/x.md', '--shared', '--agent', '1'],
      ['lock', 'docs/x.md', '--shared', '--agent', '2'],
      ['lock', '@gpu', '--slots', '2', '--agent', '2'],
      ['lock', '@gpu', '--slots', '2', '--agent', '3'],
      ['lock', 'src/**/*.test.ts', '--agent', '4', '--reason', 'refactor'],
      ['lock', 'lib/', '--agent', '5'],
      ['lock', 'a.ts', '--agent', '1'],
    ]) {
      expect((await run([...args, '--ttl', '1h'])).code, args.join(' ')).toBe(0);
    }
    const state = path.join(ws, '.harn/agents.json');
    expect(JSON.parse(fs.readFileSync(state, 'utf8')).harn.locks).toEqual({
      1: { 'docs/x.md': { mode: 'shared' } },
      2: { 'docs/x.md': { mode: 'shared' }, '@gpu': { slots: 2 } },
      3: { '@gpu': { slots: 2 } },
    });

    const build = tempDir('harn-seed-');
    fs.writeFileSync(path.join(build, 'agents.rs'), seedWithoutSerde(fs.readFileSync(SEED, 'utf8')));
    fs.copyFileSync(path.join(import.meta.dirname, '../fixtures/seed-reader/reader.rs'), path.join(build, 'main.rs'));
    execFileSync('rustc', ['--edition', '2021', '-A', 'warnings', '-o', path.join(build, 'reader'), path.join(build, 'main.rs')], { cwd: build, stdio: 'pipe' });
    const keys = ['docs/x.md', '@gpu', 'src/**/*.test.ts', 'lib/', 'a.ts', 'free.ts'];
    const out = execFileSync(path.join(build, 'reader'), [state, String(T0), ...keys], { encoding: 'utf8' });
    const rows = out.trim().split('\n').map((line) => line.split('\t'));
    expect(rows.map((r) => r[0])).toEqual(keys);
    const byKey = new Map(rows.map((r) => [r[0], r]));
    // Held keys: a holder it names, and a third agent refused; the seed's lock_holder picks one of several.
    expect(['1', '2']).toContain(byKey.get('docs/x.md')?.[1]);
    expect(['2', '3']).toContain(byKey.get('@gpu')?.[1]);
    expect(byKey.get('src/**/*.test.ts')?.[1]).toBe('4');
    expect(byKey.get('lib/')?.[1]).toBe('5');
    expect(byKey.get('a.ts')?.[1]).toBe('1');
    for (const key of keys.slice(0, 5)) expect(byKey.get(key)?.[2], key).toBe('refused');
    // And a free key is free to it.
    expect(byKey.get('free.ts')?.slice(1)).toEqual(['none', 'granted']);
  });
});
