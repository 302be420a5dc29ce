/**
 * The brute-force reference for src/core/glob.ts: a direct, backtracking port of git's wildmatch.c `dowild`
 * (WM_PATHNAME, bytes) and of dir.c's pathspec match for `:(glob)` (literal equality first, then the literal
 * prefix compared and the rest wildmatched). Nothing here is shared with the module under test.
 */
const enc = new TextEncoder();
const MATCH = 0;
const NOMATCH = 1;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

const CLASS: Record<string, (c: number) => boolean> = {
  alnum: (c) => /[A-Za-z0-9]/.test(String.fromCharCode(c)) && c < 128,
  alpha: (c) => /[A-Za-z]/.test(String.fromCharCode(c)) && c < 128,
  blank: (c) => c === 32 || c === 9,
  cntrl: (c) => c < 32 || c === 127,
  digit: (c) => c >= 48 && c <= 57,
  graph: (c) => c > 32 && c < 127,
  lower: (c) => c >= 97 && c <= 122,
  print: (c) => c >= 32 && c < 127,
  punct: (c) => c > 32 && c < 127 && !/[A-Za-z0-9]/.test(String.fromCharCode(c)),
  space: (c) => c === 32 || (c >= 9 && c <= 13),
  upper: (c) => c >= 65 && c <= 90,
  xdigit: (c) => /[0-9A-Fa-f]/.test(String.fromCharCode(c)) && c < 128,
};
const special = (c: number | undefined) => c === 42 || c === 63 || c === 91 || c === 92;

function dowild(p: Uint8Array, pi: number, t: Uint8Array, ti: number): number {
  const at = (a: Uint8Array, i: number) => (i < a.length ? (a[i] as number) : 0);
  for (; pi < p.length; pi++, ti++) {
    let pch = at(p, pi);
    const tch = at(t, ti);
    if (tch === 0 && pch !== 42) return ABORT_ALL;
    switch (pch) {
      case 92: // backslash
        pch = at(p, ++pi);
        if (tch !== pch) return NOMATCH;
        continue;
      case 63: // ?
        if (tch === 47) return NOMATCH;
        continue;
      case 42: {
        let matchSlash: boolean;
        if (at(p, ++pi) === 42) {
          const prev = pi - 2;
          while (at(p, ++pi) === 42);
          if ((prev < 0 || at(p, prev) === 47) && (pi >= p.length || at(p, pi) === 47 || (at(p, pi) === 92 && at(p, pi + 1) === 47))) {
            if (at(p, pi) === 47 && dowild(p, pi + 1, t, ti) === MATCH) return MATCH;
            matchSlash = true;
          } else matchSlash = false;
        } else matchSlash = false;
        if (pi >= p.length) {
          if (!matchSlash && t.subarray(ti).includes(47)) return NOMATCH;
          return MATCH;
        } else if (!matchSlash && at(p, pi) === 47) {
          const slash = t.indexOf(47, ti);
          if (slash === -1) return NOMATCH;
          ti = slash;
          continue; // the for loop consumes the slash (pi stays on "/")
        }
        for (;;) {
          if (ti >= t.length) break;
          const r = dowild(p, pi, t, ti);
          if (r !== NOMATCH) {
            if (!matchSlash || r !== ABORT_TO_STARSTAR) return r;
          } else if (!matchSlash && at(t, ti) === 47) return ABORT_TO_STARSTAR;
          ti++;
        }
        return ABORT_ALL;
      }
      case 91: {
        pch = at(p, ++pi);
        if (pch === 94) pch = 33;
        let negated = false;
        if (pch === 33) {
          negated = true;
          pch = at(p, ++pi);
        }
        let prev = 0;
        let matched = false;
        do {
          if (pch === 0 && pi >= p.length) return ABORT_ALL;
          if (pch === 92) {
            pch = at(p, ++pi);
            if (pi >= p.length) return ABORT_ALL;
            if (tch === pch) matched = true;
          } else if (pch === 45 && prev && pi + 1 < p.length && at(p, pi + 1) !== 93) {
            pch = at(p, ++pi);
            if (pch === 92) {
              pch = at(p, ++pi);
              if (pi >= p.length) return ABORT_ALL;
            }
            if (tch <= pch && tch >= prev) matched = true;
            pch = 0;
          } else if (pch === 91 && at(p, pi + 1) === 58) {
            const s = pi + 2;
            pi = s;
            while (pi < p.length && at(p, pi) !== 93) pi++;
            if (pi >= p.length) return ABORT_ALL;
            const len = pi - s - 1;
            if (len < 0 || at(p, pi - 1) !== 58) {
              pi = s - 2;
              pch = 91;
              if (tch === pch) matched = true;
            } else {
              const name = new TextDecoder().decode(p.subarray(s, pi - 1));
              const test = CLASS[name];
              if (!test) return ABORT_ALL;
              if (test(tch)) matched = true;
              pch = 0;
            }
          } else if (tch === pch) matched = true;
          prev = pch;
          pch = at(p, ++pi);
        } while (!(pch === 93 && pi < p.length));
        if (matched === negated || tch === 47) return NOMATCH;
        continue;
      }
      default:
        if (tch !== pch) return NOMATCH;
    }
  }
  return ti >= t.length ? MATCH : NOMATCH;
}

/** Whether git lists `name` for the pathspec `:(glob)<pattern>`. */
export function gitGlobMatches(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  const p = enc.encode(pattern);
  const t = enc.encode(name);
  let k = 0;
  while (k < p.length && !special(p[k])) k++;
  if (t.length < k) return false;
  for (let i = 0; i < k; i++) if (p[i] !== t[i]) return false;
  return dowild(p.subarray(k), 0, t.subarray(k), 0) === MATCH;
}

/** Byte version, for witnesses that need not be valid UTF-8. */
export function gitGlobMatchesBytes(pattern: string, name: Uint8Array): boolean {
  const p = enc.encode(pattern);
  if (p.length === name.length && p.every((b, i) => b === name[i])) return true;
  let k = 0;
  while (k < p.length && !special(p[k])) k++;
  if (name.length < k) return false;
  for (let i = 0; i < k; i++) if (p[i] !== name[i]) return false;
  return dowild(p.subarray(k), 0, name.subarray(k), 0) === MATCH;
}
