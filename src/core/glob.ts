/**
 * Lock keys and what they cover, with git's pathspec `:(glob)` meaning for patterns.
 *
 * A key is one of:
 * - a **resource** (`@gpu`, `@git/index`): a name, not a path; it covers only itself;
 * - a **pattern** (any `*`, `?` or `[` in it): git's `:(glob)` pathspec. It covers the names git would list
 *   for it: the name spelled exactly as the pattern (git matches a pathspec literally first), and the names
 *   that start with its literal prefix (everything before the first `*`, `?`, `[` or `\`) and whose rest
 *   git's wildmatch (WM_PATHNAME) matches against the pattern's rest. So `*`, `?` and `[...]` never match
 *   a `/`; `**` at the start of a segment (or right after the literal prefix) and followed by `/` or the
 *   end matches any number of directories; any other `**` is a `*`. Git compares bytes: `?` is one byte of
 *   UTF-8. A pattern covers no more than the names it matches (`src/*` does not cover `src/a/b.ts`);
 * - a **directory** (`src/`): the directory itself and everything under it;
 * - a **path**: itself.
 *
 * What each key covers is a regular language over bytes, compiled here to a small NFA; two keys overlap when
 * their languages share a name, decided by a breadth-first search of the two NFAs' product. That search is
 * bounded (PRODUCT_LIMIT states): beyond it the answer is "undecided", which callers treat as an overlap.
 */

export type LockKind = 'path' | 'directory' | 'pattern' | 'resource';

const STAR = 42; // *
const QUESTION = 63; // ?
const BRACKET = 91; // [
const CLOSE = 93; // ]
const BACKSLASH = 92; // \
const SLASH = 47; // /

/** Whether a key is a pattern: it has `*`, `?` or `[` (and is not a resource). */
export function isPattern(key: string): boolean {
  return !key.startsWith('@') && (key.includes('*') || key.includes('?') || key.includes('['));
}

export function lockKind(key: string): LockKind {
  if (key.startsWith('@')) return 'resource';
  if (isPattern(key)) return 'pattern';
  return key.endsWith('/') ? 'directory' : 'path';
}

// ---- byte sets ---------------------------------------------------------------------------------------

/** A set of bytes, 256 bits. */
type ByteSet = Uint32Array;

const emptySet = (): ByteSet => new Uint32Array(8);
const addByte = (set: ByteSet, b: number): void => {
  set[b >>> 5] = (set[b >>> 5] as number) | (1 << (b & 31));
};
const hasByte = (set: ByteSet, b: number): boolean => (((set[b >>> 5] as number) >>> (b & 31)) & 1) === 1;
function singleton(b: number): ByteSet {
  const set = emptySet();
  addByte(set, b);
  return set;
}
function allBytes(exceptSlash: boolean): ByteSet {
  const set = new Uint32Array(8).fill(0xffffffff);
  // No name holds a NUL byte (git's wildmatch reads it as the end).
  set[0] = (set[0] as number) & ~1;
  if (exceptSlash) set[SLASH >>> 5] = (set[SLASH >>> 5] as number) & ~(1 << (SLASH & 31));
  return set;
}
const ANY = allBytes(false);
const NOT_SLASH = allBytes(true);

/** The smallest byte in both sets, or -1. */
function commonByte(a: ByteSet, b: ByteSet): number {
  for (let i = 0; i < 8; i++) {
    const both = ((a[i] as number) & (b[i] as number)) >>> 0;
    if (both !== 0) return i * 32 + (31 - Math.clz32(both & -both));
  }
  return -1;
}

// ---- the NFA ------------------------------------------------------------------------------------------

interface Nfa {
  /** Per state: byte transitions. */
  readonly edges: Array<Array<readonly [ByteSet, number]>>;
  /** Per state: epsilon transitions. */
  readonly eps: number[][];
  readonly accept: boolean[];
}

class Builder {
  readonly edges: Array<Array<readonly [ByteSet, number]>> = [];
  readonly eps: number[][] = [];
  readonly accept: boolean[] = [];
  state(): number {
    this.edges.push([]);
    this.eps.push([]);
    this.accept.push(false);
    return this.edges.length - 1;
  }
  edge(from: number, set: ByteSet, to: number): void {
    (this.edges[from] as Array<readonly [ByteSet, number]>).push([set, to]);
  }
  epsilon(from: number, to: number): void {
    (this.eps[from] as number[]).push(to);
  }
  /** States reading `bytes` one by one from `from`; returns the last. */
  chain(from: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
    let cur = from;
    for (let i = start; i < end; i++) {
      const next = this.state();
      this.edge(cur, singleton(bytes[i] as number), next);
      cur = next;
    }
    return cur;
  }
  /** A state looping on `set`, entered from `from` by epsilon. */
  loop(from: number, set: ByteSet): number {
    const s = this.state();
    this.epsilon(from, s);
    this.edge(s, set, s);
    return s;
  }
  done(): Nfa {
    return { edges: this.edges, eps: this.eps, accept: this.accept };
  }
}

const encoder = new TextEncoder();

/** Where git's literal prefix of a pattern ends: its first `*`, `?`, `[` or `\` (in bytes). */
function literalLength(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === STAR || b === QUESTION || b === BRACKET || b === BACKSLASH) return i;
  }
  return bytes.length;
}

/** The directory part of a pattern's literal prefix: `src/` for `src/**\/*.ts`, `` for `*.md`. */
export function patternBase(pattern: string): string {
  const bytes = encoder.encode(pattern);
  const literal = new TextDecoder().decode(bytes.subarray(0, literalLength(bytes)));
  return literal.slice(0, literal.lastIndexOf('/') + 1);
}

/** The POSIX classes git's wildmatch knows, as byte tests (the C locale: ASCII only). */
const CLASSES: Readonly<Record<string, (b: number) => boolean>> = {
  alnum: (b) => (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122),
  alpha: (b) => (b >= 65 && b <= 90) || (b >= 97 && b <= 122),
  blank: (b) => b === 32 || b === 9,
  cntrl: (b) => b < 32 || b === 127,
  digit: (b) => b >= 48 && b <= 57,
  graph: (b) => b > 32 && b < 127,
  lower: (b) => b >= 97 && b <= 122,
  print: (b) => b >= 32 && b < 127,
  punct: (b) => b > 32 && b < 127 && !CLASSES.alnum?.(b),
  space: (b) => b === 32 || (b >= 9 && b <= 13),
  upper: (b) => b >= 65 && b <= 90,
  xdigit: (b) => (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102),
};

/** Thrown for a pattern git's wildmatch gives up on (it then matches only literally). */
export class PatternError extends Error {}

/**
 * A bracket expression starting at `bytes[at]` (the `[`), as git's wildmatch reads it: `!` or `^` negates,
 * the first member may be `]`, `a-z` ranges, `\x` escapes, `[:class:]`. Returns the set (never holding `/`)
 * and the index after its `]`.
 */
function bracket(bytes: Uint8Array, at: number): { set: ByteSet; next: number } {
  let p = at + 1;
  let negated = false;
  if (bytes[p] === 94 /* ^ */ || bytes[p] === 33 /* ! */) {
    negated = true;
    p++;
  }
  const members = emptySet();
  let prev = 0;
  let ch = bytes[p];
  do {
    if (ch === undefined) throw new PatternError('an unclosed [');
    if (ch === BACKSLASH) {
      ch = bytes[++p];
      if (ch === undefined) throw new PatternError('a \\ at its end');
      addByte(members, ch);
    } else if (ch === 45 /* - */ && prev !== 0 && bytes[p + 1] !== undefined && bytes[p + 1] !== CLOSE) {
      ch = bytes[++p] as number;
      if (ch === BACKSLASH) {
        ch = bytes[++p];
        if (ch === undefined) throw new PatternError('a \\ at its end');
      }
      for (let b = prev; b <= ch; b++) addByte(members, b);
      ch = 0; // as git: the next "-" after a range is a literal
    } else if (ch === BRACKET && bytes[p + 1] === 58 /* : */) {
      const start = p + 2;
      let end = start;
      while (end < bytes.length && bytes[end] !== CLOSE) end++;
      if (end >= bytes.length) throw new PatternError('an unclosed [');
      if (end - start - 1 < 0 || bytes[end - 1] !== 58) {
        // No ":]": the "[" is an ordinary member (git goes on reading after it).
        addByte(members, BRACKET);
      } else {
        const name = new TextDecoder().decode(bytes.subarray(start, end - 1));
        const test = CLASSES[name];
        if (!test) throw new PatternError(`an unknown character class [:${name}:]`);
        for (let b = 0; b < 256; b++) if (test(b)) addByte(members, b);
        p = end;
        ch = 0;
      }
    } else addByte(members, ch);
    prev = ch;
    ch = bytes[++p];
  } while (ch !== CLOSE);
  const set = negated ? emptySet() : members;
  if (negated) for (let i = 0; i < 8; i++) set[i] = ~(members[i] as number) >>> 0;
  set[0] = (set[0] as number) & ~1;
  set[SLASH >>> 5] = (set[SLASH >>> 5] as number) & ~(1 << (SLASH & 31));
  return { set, next: p + 1 };
}

/** Compile git's wildmatch (WM_PATHNAME) of `bytes[from..]`, starting at state `cur`; marks the accepting state. */
function wild(b: Builder, bytes: Uint8Array, from: number, cur: number): void {
  let i = from;
  while (i < bytes.length) {
    const c = bytes[i] as number;
    if (c === STAR) {
      let j = i + 1;
      if (bytes[j] === STAR) {
        while (bytes[j] === STAR) j++;
        const atStart = i === from || bytes[i - 1] === SLASH;
        const slashAfter = bytes[j] === SLASH ? 1 : bytes[j] === BACKSLASH && bytes[j + 1] === SLASH ? 2 : 0;
        if (atStart && (j === bytes.length || slashAfter > 0)) {
          if (j === bytes.length) {
            cur = b.loop(cur, ANY);
            i = j;
            continue;
          }
          // "**/": no directory at all, or any run of bytes ending in "/".
          const after = b.state();
          b.epsilon(cur, after);
          const any = b.loop(cur, ANY);
          b.edge(any, singleton(SLASH), after);
          cur = after;
          i = j + slashAfter;
          continue;
        }
      }
      cur = b.loop(cur, NOT_SLASH);
      i = j;
    } else if (c === QUESTION) {
      const next = b.state();
      b.edge(cur, NOT_SLASH, next);
      cur = next;
      i++;
    } else if (c === BRACKET) {
      const { set, next: after } = bracket(bytes, i);
      const next = b.state();
      b.edge(cur, set, next);
      cur = next;
      i = after;
    } else {
      let literal = c;
      if (c === BACKSLASH) {
        const escaped = bytes[i + 1];
        if (escaped === undefined) throw new PatternError('a \\ at its end');
        literal = escaped;
        i++;
      }
      const next = b.state();
      b.edge(cur, singleton(literal), next);
      cur = next;
      i++;
    }
  }
  b.accept[cur] = true;
}

/**
 * Why git's wildmatch would give up on a pattern (then it matches only its own spelling), or undefined when
 * it is a valid pattern. `lock` refuses such patterns rather than lock something other than meant.
 */
export function patternProblem(pattern: string): string | undefined {
  try {
    const bytes = encoder.encode(pattern);
    wild(new Builder(), bytes, literalLength(bytes), 0);
    return undefined;
  } catch (error) {
    if (error instanceof PatternError) return error.message;
    throw error;
  }
}

const cache = new Map<string, Nfa>();

/** The NFA of the names `key` covers (a resource: only itself, with no directory meaning). */
function coverage(key: string): Nfa {
  const cached = cache.get(key);
  if (cached) return cached;
  const b = new Builder();
  const start = b.state();
  const bytes = encoder.encode(key);
  const kind = lockKind(key);
  if (kind === 'directory') {
    // The directory itself (its name without the "/") and anything under it.
    b.accept[b.chain(start, bytes, 0, bytes.length - 1)] = true;
    const under = b.chain(start, bytes);
    const more = b.state();
    b.edge(under, ANY, more);
    b.edge(more, ANY, more);
    b.accept[more] = true;
  } else if (kind === 'pattern') {
    b.accept[b.chain(start, bytes)] = true;
    const literal = literalLength(bytes);
    const prefix = b.chain(start, bytes, 0, literal);
    try {
      wild(b, bytes, literal, prefix);
    } catch (error) {
      // A pattern git gives up on matches only literally (a foreign key; `lock` refuses such patterns).
      if (!(error instanceof PatternError)) throw error;
    }
  } else {
    b.accept[b.chain(start, bytes)] = true;
  }
  const nfa = b.done();
  if (cache.size > 10_000) cache.clear();
  cache.set(key, nfa);
  return nfa;
}

function closure(nfa: Nfa, states: Iterable<number>): number[] {
  const seen = new Set<number>();
  const stack = [...states];
  while (stack.length > 0) {
    const s = stack.pop() as number;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const t of nfa.eps[s] as number[]) stack.push(t);
  }
  return [...seen];
}

/** Whether `key` covers the name `path` (a plain workspace path, no trailing `/`). */
export function covers(key: string, path: string): boolean {
  if (key.startsWith('@') || path.startsWith('@')) return key === path;
  const nfa = coverage(key);
  let current = closure(nfa, [0]);
  for (const byte of encoder.encode(path)) {
    const next: number[] = [];
    for (const s of current) for (const [set, to] of nfa.edges[s] as Array<readonly [ByteSet, number]>) if (hasByte(set, byte)) next.push(to);
    if (next.length === 0) return false;
    current = closure(nfa, next);
  }
  return current.some((s) => nfa.accept[s]);
}

/** Product states searched before an overlap is called undecided (and treated as one). */
export const PRODUCT_LIMIT = 50_000;

export type Overlap =
  | { readonly overlap: false }
  | { readonly overlap: true; readonly witness: Uint8Array }
  | { readonly overlap: 'undecided' };

/**
 * Whether two keys cover a common name, with one such name (bytes) when they do. Resources overlap only
 * with themselves, never with paths.
 */
export function overlap(a: string, b: string): Overlap {
  const resourceA = a.startsWith('@');
  const resourceB = b.startsWith('@');
  if (resourceA || resourceB) return resourceA && resourceB && a === b ? { overlap: true, witness: encoder.encode(a) } : { overlap: false };
  const x = coverage(a);
  const y = coverage(b);
  // Breadth-first over pairs of states, epsilon moves taken on either side; parents give the witness.
  const key = (s: number, t: number): number => s * y.accept.length + t;
  const parent = new Map<number, readonly [number, number]>(); // pair -> [previous pair, byte or -1]
  const queue: Array<readonly [number, number]> = [[0, 0]];
  parent.set(key(0, 0), [-1, -1]);
  for (let head = 0; head < queue.length; head++) {
    if (parent.size > PRODUCT_LIMIT) return { overlap: 'undecided' };
    const [s, t] = queue[head] as readonly [number, number];
    const here = key(s, t);
    if (x.accept[s] && y.accept[t]) return { overlap: true, witness: witness(parent, here) };
    const visit = (s2: number, t2: number, byte: number): void => {
      const k = key(s2, t2);
      if (parent.has(k)) return;
      parent.set(k, [here, byte]);
      queue.push([s2, t2]);
    };
    for (const s2 of x.eps[s] as number[]) visit(s2, t, -1);
    for (const t2 of y.eps[t] as number[]) visit(s, t2, -1);
    for (const [setX, s2] of x.edges[s] as Array<readonly [ByteSet, number]>) {
      for (const [setY, t2] of y.edges[t] as Array<readonly [ByteSet, number]>) {
        const byte = commonByte(setX, setY);
        if (byte !== -1) visit(s2, t2, byte);
      }
    }
  }
  return { overlap: false };
}

function witness(parent: Map<number, readonly [number, number]>, end: number): Uint8Array {
  const bytes: number[] = [];
  for (let k = end; ; ) {
    const [previous, byte] = parent.get(k) as readonly [number, number];
    if (previous === -1) break;
    if (byte !== -1) bytes.push(byte);
    k = previous;
  }
  return Uint8Array.from(bytes.reverse());
}

/** Whether two keys may cover a common name: an undecided overlap counts as one (the safe reading). */
export function mayOverlap(a: string, b: string): boolean {
  return overlap(a, b).overlap !== false;
}
