/**
 * What a shell command line would do to a work tree's uncommitted changes, read from its git invocations:
 * the guarded shell of `agent-hook` (PreToolUse of Bash). Pure: words in, operations out.
 *
 * The reading is deliberately coarse and errs towards "affects everything": a `git add .` takes every
 * change under the directory it runs in, `git stash` with no paths takes every change, `git checkout -- dir`
 * discards every change under `dir`. Commands it cannot see through (`eval`, scripts, aliases) are not
 * guarded here; the git pre-commit hook still refuses commits of others' claimed files.
 */

/** One git operation that takes or destroys uncommitted changes. */
export interface GitOperation {
  /** take: stages or commits changes (`add`, `commit -a`, `commit <paths>`); destroy: loses them. */
  readonly effect: 'take' | 'destroy';
  /** What the user typed, for messages (`git add -A`). */
  readonly text: string;
  /** The directory the command runs in, relative to the hook's cwd (`cd sub && git add .`, `git -C sub`). */
  readonly dir: string;
  /** Pathspecs as given, relative to `dir`; empty with `all`. */
  readonly pathspecs: readonly string[];
  /** Every change in the work tree (no pathspec limits it). */
  readonly all: boolean;
  /** Which changes: tracked files only (`commit -a`, `add -u`, `stash`), untracked only (`clean`), or both. */
  readonly files: 'tracked' | 'untracked' | 'any';
}

/** A subshell's start or end, between the simple commands `shellWords` returns (its `cd` ends with it). */
export const SUBSHELL_START = ['('];
export const SUBSHELL_END = [')'];

/**
 * Split a command line into simple commands (at `;`, `&&`, `||`, `|`, `&`, newlines), each as words, with
 * quotes and escapes honoured. Redirections (`2>&1`, `> file`, `<in`, `&>log`) are dropped with their
 * target, and a here-document's body is skipped (its text is no command). Subshells `( ... )` are marked
 * with SUBSHELL_START and SUBSHELL_END; `{ ... }` groups are not (they run in the same shell).
 */
export function shellWords(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  /** Here-document delimiters whose bodies start at the next newline. */
  const heredocs: Array<{ delimiter: string; strip: boolean }> = [];
  /** The next word is a redirection's target (dropped). */
  let target = false;
  const endWord = () => {
    if (word !== null) {
      if (target) target = false;
      else words.push(word);
    }
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end === -1 ? line.length : end);
      i = end === -1 ? line.length : end;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1] as string)) j++;
        value += line[j];
      }
      word = (word ?? '') + value;
      i = j;
    } else if (c === '\\' && i + 1 < line.length) {
      if (line[i + 1] !== '\n') word = (word ?? '') + line[i + 1];
      i++;
    } else if (c === '#' && word === null) {
      const end = line.indexOf('\n', i);
      i = end === -1 ? line.length : end - 1;
    } else if (c === '>' || c === '<' || (c === '&' && line[i + 1] === '>')) {
      // A redirection: an fd number before it is part of it, not a word.
      if (word !== null && /^\d+$/.test(word)) word = null;
      endWord();
      if (c === '<' && line[i + 1] === '<' && line[i + 2] !== '<') {
        const strip = line[i + 2] === '-';
        i += strip ? 2 : 1;
        const m = /^[ \t]*(['"]?)([^\s;&|<>()'"]+)\1/.exec(line.slice(i + 1));
        if (m) {
          heredocs.push({ delimiter: m[2] as string, strip });
          i += m[0].length;
        }
        continue;
      }
      let j = i + 1;
      while (j < line.length && (line[j] === '>' || line[j] === '<' || line[j] === '&' || line[j] === '|')) j++;
      // `>&2`, `2>&1`: a descriptor, not a file word.
      const fd = /^\d+|^-/.exec(line.slice(j));
      if (line[j - 1] === '&' && fd) j += fd[0].length;
      else target = true;
      i = j - 1;
    } else if (c === '\n' && heredocs.length > 0) {
      endCommand();
      // Skip each pending here-document's body, up to its delimiter line.
      let pos = i + 1;
      for (const { delimiter, strip } of heredocs.splice(0)) {
        for (;;) {
          const eol = line.indexOf('\n', pos);
          const text = line.slice(pos, eol === -1 ? line.length : eol);
          pos = eol === -1 ? line.length : eol + 1;
          if ((strip ? text.replace(/^\t+/, '') : text) === delimiter || eol === -1) break;
        }
      }
      i = pos - 1;
    } else if (c === '(' || c === ')') {
      endCommand();
      commands.push(c === '(' ? SUBSHELL_START : SUBSHELL_END);
    } else if (c === ';' || c === '&' || c === '|' || c === '\n' || c === '{' || c === '}') {
      endCommand();
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
    } else {
      word = (word ?? '') + c;
    }
  }
  endCommand();
  return commands;
}

/** git's options that take a value in the next word, before the subcommand. */
const GLOBAL_VALUE_OPTIONS = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--config-env']);

/** Per subcommand: the options that take a value in the next word (their pathspecs follow). */
const VALUE_OPTIONS: Readonly<Record<string, ReadonlySet<string>>> = {
  add: new Set(['--chmod', '--pathspec-from-file']),
  commit: new Set(['-m', '--message', '-F', '--file', '-C', '--reuse-message', '-c', '--reedit-message', '--author', '--date', '-t', '--template', '--fixup', '--squash', '--cleanup', '-S', '--trailer', '--pathspec-from-file']),
  stash: new Set(['-m', '--message', '--pathspec-from-file']),
  'checkout-index': new Set(['--prefix', '--stage']),
  checkout: new Set(['-b', '-B', '--orphan', '--conflict', '--pathspec-from-file']),
  restore: new Set(['-s', '--source', '--conflict', '--pathspec-from-file']),
  clean: new Set(['-e', '--exclude']),
  reset: new Set(['--pathspec-from-file']),
  rm: new Set(['--pathspec-from-file']),
  switch: new Set(['-c', '-C', '--create', '--force-create', '--orphan', '--conflict']),
};

/** Shell keywords and wrappers before a program (`if git ...`, `! git`, `env git`, `timeout 60 git`). */
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'time', 'command', 'exec', 'builtin', 'nohup', 'xargs', 'eval']);
/** Wrappers, and how many words after their options they take before the program. */
const WRAPPERS: Readonly<Record<string, number>> = { env: 0, sudo: 0, nice: 0, timeout: 1, stdbuf: 0, ionice: 0, chronic: 0, flock: 1 };
/** Wrapper options that take a value in the next word. */
const WRAPPER_VALUE_OPTIONS = new Set(['-u', '-g', '-n', '-s', '-k', '-c', '-C', '-w', '-E', '--signal', '--kill-after', '--user', '--group', '--adjustment']);

/** The words of a simple command from its program on: keywords, assignments and wrappers skipped. */
function programWords(command: readonly string[]): readonly string[] {
  let words = command;
  for (;;) {
    const first = words[0];
    if (first === undefined) return words;
    if (KEYWORDS.has(first) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) {
      words = words.slice(1);
      continue;
    }
    const takes = Object.hasOwn(WRAPPERS, first) ? WRAPPERS[first] : undefined;
    if (takes === undefined) return words;
    let i = 1;
    while (i < words.length && ((words[i] as string).startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] as string))) {
      i += WRAPPER_VALUE_OPTIONS.has(words[i] as string) ? 2 : 1;
    }
    words = words.slice(i + takes);
  }
}

/** A word whose value the shell decides at run time (`$f`, `$(...)`, a backquote): it may name anything. */
const dynamic = (word: string): boolean => /[$`]/.test(word);

interface Parsed {
  readonly flags: readonly string[];
  readonly positionals: readonly string[];
  /** Words after `--`. */
  readonly afterDashes: readonly string[] | null;
}

function parseArgs(words: readonly string[], valueOptions: ReadonlySet<string>): Parsed {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === '--') return { flags, positionals, afterDashes: words.slice(i + 1) };
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      flags.push(eq === -1 ? word : word.slice(0, eq));
      if (eq === -1 && valueOptions.has(word)) i++;
    } else if (word.startsWith('-') && word.length > 1) {
      // Bundled short flags (`-am msg`): each letter is a flag; one taking a value takes the rest or the next word.
      for (let j = 1; j < word.length; j++) {
        const flag = `-${word[j]}`;
        flags.push(flag);
        if (valueOptions.has(flag)) {
          if (j === word.length - 1) i++;
          break;
        }
      }
    } else {
      positionals.push(word);
    }
  }
  return { flags, positionals, afterDashes: null };
}

const has = (parsed: Parsed, ...names: string[]): boolean => names.some((n) => parsed.flags.includes(n));

/**
 * The git operations in a command line that take or destroy uncommitted changes. `exists` says whether a
 * word names an existing path (relative to the command's directory): `git checkout main` switches branches,
 * `git checkout src/a.ts` discards that file's changes.
 */
export function gitOperations(line: string, exists: (dir: string, word: string) => boolean = () => false): GitOperation[] {
  const operations: GitOperation[] = [];
  let dir = '.';
  let previous = '.';
  const saved: string[] = [];
  const join = (base: string, target: string) => (target.startsWith('/') ? target : base === '.' ? target : `${base}/${target}`);
  for (const command of shellWords(line)) {
    if (command === SUBSHELL_START) {
      saved.push(dir);
      continue;
    }
    if (command === SUBSHELL_END) {
      dir = saved.pop() ?? dir;
      continue;
    }
    const words = programWords(command);
    const program = words[0];
    if (program === 'cd' || program === 'pushd') {
      const target = words.find((w, k) => k > 0 && !w.startsWith('-') ) ?? (words[1] === '-' ? '-' : undefined);
      const next = target === undefined || target === '~' || dynamic(target) ? '.' : target === '-' ? previous : join(dir, target);
      previous = dir;
      dir = next;
      continue;
    }
    if (program === undefined || !(program === 'git' || program.endsWith('/git'))) continue;
    let runDir = dir;
    let i = 1;
    for (; i < words.length; i++) {
      const word = words[i] as string;
      if (!word.startsWith('-')) break;
      if (GLOBAL_VALUE_OPTIONS.has(word)) {
        if (word === '-C' && words[i + 1] !== undefined) runDir = join(runDir, words[i + 1] as string);
        i++;
      }
    }
    const sub = words[i];
    if (sub === undefined) continue;
    const rest = words.slice(i + 1);
    const text = words.join(' ');
    const parsed = parseArgs(rest, VALUE_OPTIONS[sub] ?? new Set());
    const specs = parsed.afterDashes ?? parsed.positionals;
    const op = (effect: GitOperation['effect'], pathspecs: readonly string[], files: GitOperation['files'] = 'any'): void => {
      // A pathspec the shell fills in at run time (`"$f"`, `$(git ls-files -m)`) may name anything.
      const all = pathspecs.length === 0 || pathspecs.some(dynamic);
      operations.push({ effect, text, dir: runDir, pathspecs: all ? [] : pathspecs, all, files });
    };
    switch (sub) {
      case 'add':
        if (has(parsed, '--pathspec-from-file')) op('take', []);
        else if (specs.length > 0) op('take', specs, has(parsed, '-u', '--update') ? 'tracked' : 'any');
        else if (has(parsed, '-A', '--all', '--no-ignore-removal')) op('take', []);
        else if (has(parsed, '-u', '--update')) op('take', [], 'tracked');
        break;
      case 'commit': {
        const all = has(parsed, '-a', '--all');
        const paths = parsed.afterDashes ?? parsed.positionals;
        if (has(parsed, '--pathspec-from-file')) op('take', []);
        else if (paths.length > 0) op('take', paths, 'tracked');
        else if (all) op('take', [], 'tracked');
        break;
      }
      case 'stash': {
        const action = parsed.positionals[0];
        if (action !== undefined && !['push', 'save'].includes(action)) break; // list, show, pop, apply, drop ...
        const paths = parsed.afterDashes ?? (action === 'push' ? parsed.positionals.slice(1) : []);
        op('destroy', paths, has(parsed, '-u', '--include-untracked', '-a', '--all') ? 'any' : 'tracked');
        break;
      }
      case 'checkout': {
        if (has(parsed, '-b', '-B', '--orphan')) break;
        if (parsed.afterDashes !== null) op('destroy', parsed.afterDashes, 'tracked');
        else if (has(parsed, '-f', '--force')) op('destroy', [], 'tracked');
        else {
          const paths = parsed.positionals.filter((w, k) => w === '.' || exists(runDir, w) || k > 0);
          if (paths.length > 0) op('destroy', paths, 'tracked');
        }
        break;
      }
      case 'restore': {
        // `--staged` alone only unstages: the work tree keeps the changes.
        if (has(parsed, '--staged', '-S') && !has(parsed, '--worktree', '-W')) break;
        op('destroy', specs.length > 0 ? specs : ['.'], 'tracked');
        break;
      }
      case 'reset':
        if (has(parsed, '--hard', '--merge', '--keep')) op('destroy', [], 'tracked');
        break;
      case 'clean':
        if (has(parsed, '-f', '--force') && !has(parsed, '-n', '--dry-run')) op('destroy', specs, 'untracked');
        break;
      case 'rm':
        if (specs.length > 0 && !has(parsed, '--cached')) op('destroy', specs, 'tracked');
        break;
      case 'switch':
        if (has(parsed, '--discard-changes', '-f', '--force')) op('destroy', [], 'tracked');
        break;
      case 'mv':
        // `git mv -f a b` overwrites b.
        if (has(parsed, '-f', '--force') && parsed.positionals.length >= 2) op('destroy', parsed.positionals.slice(-1), 'any');
        break;
      case 'checkout-index':
        if (has(parsed, '-f', '--force')) op('destroy', has(parsed, '-a', '--all') ? [] : parsed.afterDashes ?? parsed.positionals, 'tracked');
        break;
      case 'read-tree':
        if (has(parsed, '-u') && has(parsed, '--reset', '-m')) op('destroy', [], 'tracked');
        break;
      default:
        break;
    }
  }
  return operations;
}

/**
 * Whether a pathspec (relative to `dir`, itself relative to the work tree's top) covers `file` (relative to
 * the top). Literal prefixes and git's glob characters are honoured; a magic pathspec (`:(...)`, `:/`) is taken
 * to cover everything.
 */
export function pathspecCovers(pathspec: string, dir: string, file: string, top: string | null = null): boolean {
  if (pathspec.startsWith(':')) return true;
  let spec = pathspec;
  if (spec.startsWith('/')) {
    // An absolute pathspec names a place in the work tree `top`, or outside it (nothing of it); without the
    // top, it may name anything.
    if (top === null) return true;
    const relative = posixRelative(top, spec);
    if (relative === null) return false;
    spec = relative;
    dir = '.';
  }
  const joined = normalise(dir === '.' || dir === '' ? spec : `${dir}/${spec}`);
  if (joined === null) return true; // above the top: covers the whole tree as far as we can tell
  if (joined === '') return true;
  if (/[*?[]/.test(joined)) return globRegExp(joined).test(file);
  return file === joined || file.startsWith(`${joined.replace(/\/$/, '')}/`);
}

/** `path` relative to `top` (both absolute), '.' for the top itself, or null when it lies outside. */
function posixRelative(top: string, path: string): string | null {
  const t = normalise(top.slice(1));
  const p = normalise(path.slice(1));
  if (t === null || p === null) return null;
  if (p === t) return '.';
  return t === '' ? p : p.startsWith(`${t}/`) ? p.slice(t.length + 1) : null;
}

/** `a/./b/../c` -> `a/c`; null when it climbs above the top. */
function normalise(p: string): string | null {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

/** git's pathspec glob (fnmatch without FNM_PATHNAME: `*` crosses `/`), matching the file or a directory above it. */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}(/.*)?$`);
}
