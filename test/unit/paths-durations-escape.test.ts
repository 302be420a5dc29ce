import { describe, expect, it } from 'vitest';
import { formatSpan, parseDuration } from '../../src/core/durations.js';
import { HarnError } from '../../src/core/errors.js';
import { normaliseLockPath, normaliseLockPaths } from '../../src/core/paths.js';
import { escapeForTerminal } from '../../src/render/escape.js';

describe('normaliseLockPath', () => {
  const root = '/ws';
  it.each([
    ['src/a.ts', '/ws', 'src/a.ts'],
    ['./src/../src/./a.ts', '/ws', 'src/a.ts'],
    ['a.ts', '/ws/src', 'src/a.ts'],
    ['../lib/b.ts', '/ws/src', 'lib/b.ts'],
    ['src\\win\\c.ts', '/ws', 'src/win/c.ts'],
    ['/ws/src/a.ts', '/ws/deep/er', 'src/a.ts'],
    ['src//double///slash', '/ws', 'src/double/slash'],
    ['dir/', '/ws', 'dir/'],
    ['src\\api\\', '/ws', 'src/api/'],
    ['../src/./', '/ws/lib', 'src/'],
    ['ünï cödé/ file.ts', '/ws', 'ünï cödé/ file.ts'],
  ])('%s from %s is %s', (input, cwd, expected) => {
    expect(normaliseLockPath(input, cwd, root)).toBe(expected);
  });

  it.each([
    ['', /must not be empty/],
    ['.', /workspace root itself/],
    ['..', /outside the workspace/],
    ['../other/x', /outside the workspace/],
    ['/etc/passwd', /outside the workspace/],
    ['/wsx/a', /outside the workspace/],
    ['a\0b', /NUL/],
  ])('%j is bad input', (input, message) => {
    let caught: unknown;
    try {
      normaliseLockPath(input, '/ws', root);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HarnError);
    expect((caught as HarnError).exitCode).toBe(2);
    expect((caught as HarnError).message).toMatch(message);
  });

  it('drops duplicates that normalise to the same path, keeping order', () => {
    expect(normaliseLockPaths(['b', './a', 'b/../a', '/ws/b'], '/ws', root)).toEqual(['b', 'a']);
  });
});

describe('parseDuration', () => {
  it.each([
    ['1500ms', 1_500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1500', 1_500],
    ['1.5s', 1_500],
    ['10y', 315_576_000_000],
  ])('%s is %d ms', (text, expected) => {
    expect(parseDuration(text, '--ttl')).toBe(expected);
  });

  it.each(['', '0', '0s', '-5s', '-1', '1e3', '0x10', 'abc', '5 parsecs', '0.5ms', '11y', 'x'.repeat(200), 'NaN', 'Infinity'])(
    '%j is bad input (exit 2)',
    (text) => {
      expect(() => parseDuration(text, '--ttl')).toThrow(HarnError);
      try {
        parseDuration(text, '--ttl');
      } catch (error) {
        expect((error as HarnError).exitCode).toBe(2);
        expect((error as HarnError).message).toMatch(/^--ttl: /);
      }
    },
  );
});

describe('formatSpan', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [12_000, '12s'],
    [60_000, '1m'],
    [250_000, '4m10s'],
    [7_500_000, '2h5m'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d4h'],
  ])('%d ms is %s', (span, expected) => {
    expect(formatSpan(span)).toBe(expected);
  });
});

describe('escapeForTerminal', () => {
  it('escapes control characters, DEL, C1 and bidi overrides, and keeps other text', () => {
    expect(escapeForTerminal('a\u001b[31mred\r\n\t\u007f\u009b')).toBe('a\\x1b[31mred\\r\\n\\t\\x7f\\x9b');
    expect(escapeForTerminal('evil\u202Etxt.exe\u2066')).toBe('evil\\u202etxt.exe\\u2066');
    expect(escapeForTerminal('ünïcödé 日本 🙂')).toBe('ünïcödé 日本 🙂');
  });
});
