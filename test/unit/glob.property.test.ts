import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { covers, lockKind, overlap, patternBase, patternProblem } from '../../src/core/glob.js';
import { gitGlobMatches, gitGlobMatchesBytes } from '../helpers/wildmatch-model.js';
import { tempDir } from '../helpers/cli.js';

// Small alphabets, so random patterns and names meet often; the pattern one has every special character.
const nameChar = fc.constantFrom('a', 'b', '.', '*', '[', ']', '-', '!');
const segment = fc.array(nameChar, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('')).filter((s) => s !== '.' && s !== '..');
const name = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segs) => segs.join('/'));
const patternToken = fc.constantFrom('a', 'b', '.', '/', '*', '**', '**/', '?', '[ab]', '[!a]', '[^b]', '[a-c]', '[]a]', '[[:alpha:]]', '[', ']', '-', '!', '\\*', '\\a');
const pattern = fc.array(patternToken, { minLength: 1, maxLength: 7 }).map((ts) => ts.join(''));

/** What a key covers, from the model: a directory itself and all under it, a pattern as git matches, a path itself. */
function modelCovers(key: string, bytes: Uint8Array): boolean {
  const text = new TextDecoder().decode(bytes);
  const kind = lockKind(key);
  if (kind === 'pattern') return gitGlobMatchesBytes(key, bytes);
  if (kind === 'directory') return text === key.slice(0, -1) || (text.startsWith(key) && text.length > key.length);
  return text === key;
}

const runs = Number(process.env.HARN_FUZZ_RUNS ?? 300);

describe('glob keys (git pathspec :(glob) meaning)', () => {
  it('the issue examples: src/**/*.test.ts covers src/a/b.test.ts, overlaps src/, not src/a/b.ts', () => {
    expect(covers('src/**/*.test.ts', 'src/a/b.test.ts')).toBe(true);
    expect(covers('src/**/*.test.ts', 'src/x.test.ts')).toBe(true);
    expect(covers('src/**/*.test.ts', 'src/a/b.ts')).toBe(false);
    expect(overlap('src/**/*.test.ts', 'src/').overlap).toBe(true);
    expect(overlap('src/**/*.test.ts', 'lib/').overlap).toBe(false);
    expect(overlap('src/**/*.test.ts', 'src/a/b.ts').overlap).toBe(false);
    expect(overlap('src/*.ts', 'src/**/x.ts').overlap).toBe(true);
    expect(overlap('src/*.ts', 'src/*/x.ts').overlap).toBe(false);
    expect(overlap('src/*', 'src/a/b.ts').overlap).toBe(false);
    expect(patternBase('src/**/*.test.ts')).toBe('src/');
    expect(patternBase('*.md')).toBe('');
  });

  it('a bracket locks a special character literally; a bad pattern is named', () => {
    expect(covers('src/[*].ts', 'src/*.ts')).toBe(true);
    expect(covers('src/[*].ts', 'src/a.ts')).toBe(false);
    expect(patternProblem('src/[ab')).toMatch(/unclosed/);
    expect(patternProblem('src/[[:nope:]]')).toMatch(/unknown character class/);
    expect(patternProblem('src/[ab]')).toBeUndefined();
  });

  it('covers() agrees with a port of git wildmatch on random patterns and names', () => {
    fc.assert(
      fc.property(pattern, name, (p, n) => {
        // A key without * ? [ is a path, also when it has a backslash (input never does: \ is read as /).
        expect(covers(p, n)).toBe(lockKind(p) === 'pattern' ? gitGlobMatches(p, n) : p === n || (p.endsWith('/') && (n === p.slice(0, -1) || n.startsWith(p))));
      }),
      { numRuns: runs * 10 },
    );
  });

  it('overlap() finds every common match in a random tree, and its witness is matched by both', () => {
    const key = fc.oneof(pattern, name, name.map((n) => `${n}/`));
    fc.assert(
      fc.property(key, key, fc.array(name, { minLength: 1, maxLength: 40 }), (a, b, tree) => {
        const result = overlap(a, b);
        const enc = new TextEncoder();
        const common = tree.find((n) => modelCovers(a, enc.encode(n)) && modelCovers(b, enc.encode(n)));
        if (common !== undefined) expect(result.overlap, `${a} and ${b} both cover ${common}`).not.toBe(false);
        if (result.overlap === true) {
          expect(modelCovers(a, result.witness), `witness of ${a}`).toBe(true);
          expect(modelCovers(b, result.witness), `witness of ${b}`).toBe(true);
        }
        expect(overlap(b, a).overlap).toBe(result.overlap);
      }),
      { numRuns: runs * 5 },
    );
  });

  it('covers() lists what `git ls-files :(glob)P` lists, in a real repository', () => {
    const dir = tempDir('glob-git-');
    const files = fc.sample(fc.uniqueArray(name.filter((n) => !n.includes('[') && !n.includes('!')), { minLength: 5, maxLength: 30 }), { numRuns: 1, seed: 42 })[0] as string[];
    // A name cannot be both a file and a directory: keep those that are not a prefix directory of another.
    const kept = files.filter((f) => !files.some((g) => g !== f && (g.startsWith(`${f}/`) || f.startsWith(`${g}/`))));
    execFileSync('git', ['init', '-q'], { cwd: dir });
    for (const f of kept) {
      fs.mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), '');
    }
    execFileSync('git', ['add', '-A'], { cwd: dir });
    const patterns = fc.sample(pattern.filter((p) => p === path.posix.normalize(p) && !p.startsWith('/') && !p.endsWith('/') && !p.startsWith('../') && p !== '..' && !p.startsWith('!') && patternProblem(p) === undefined && lockKind(p) === 'pattern'), { numRuns: 150, seed: 7 });
    for (const p of patterns) {
      const listed = execFileSync('git', ['ls-files', '-z', '--', `:(glob)${p}`], { cwd: dir, encoding: 'utf8' }).split('\0').filter(Boolean).sort();
      const ours = kept.filter((f) => covers(p, f)).sort();
      expect(ours, `pattern ${p}`).toEqual(listed);
    }
  });
});
