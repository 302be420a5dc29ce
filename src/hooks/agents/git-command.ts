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

/** Split a command line into simple commands (at `;`, `&&`, `||`, `|`, `&`, newlines), each as words. */
export function shellWords(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  const endWord = () => {
    if (word !== null) words.push(word);
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
    } else if (c === ';' || c === '&' || c === '|' || c === '\n' || c === '(' || c === ')' || c === '{' || c === '}') {
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
  checkout: new Set(['-b', '-B', '--orphan', '--conflict', '--pathspec-from-file']),
  restore: new Set(['-s', '--source', '--conflict', '--pathspec-from-file']),
  clean: new Set(['-e', '--exclude']),
  reset: new Set(['--pathspec-from-file']),
  rm: new Set(['--pathspec-from-file']),
  switch: new Set(['-c', '-C', '--create', '--force-create', '--orphan', '--conflict']),
};

/** Environment assignments and wrappers before a program (`FOO=1 git`, `env git`, `command git`, `sudo git`). */
const PREFIXES = new Set(['env', 'command', 'exec', 'sudo', 'nice', 'nohup', 'time', 'builtin']);

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
      flags.push(word);
      if (valueOptions.has(word)) i++;
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
  for (const command of shellWords(line)) {
    let words = command;
    while (words.length > 0 && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string) || PREFIXES.has(words[0] as string))) words = words.slice(1);
    const program = words[0];
    if (program === 'cd') {
      const target = words[1];
      dir = target === undefined || target === '~' ? '.' : target.startsWith('/') ? target : dir === '.' ? target : `${dir}/${target}`;
      continue;
    }
    if (program === undefined || !(program === 'git' || program.endsWith('/git'))) continue;
    let runDir = dir;
    let i = 1;
    for (; i < words.length; i++) {
      const word = words[i] as string;
      if (!word.startsWith('-')) break;
      if (GLOBAL_VALUE_OPTIONS.has(word)) {
        if (word === '-C' && words[i + 1] !== undefined) {
          const target = words[i + 1] as string;
          runDir = target.startsWith('/') ? target : runDir === '.' ? target : `${runDir}/${target}`;
        }
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
      operations.push({ effect, text, dir: runDir, pathspecs: pathspecs.length > 0 ? pathspecs : [], all: pathspecs.length === 0, files });
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
export function pathspecCovers(pathspec: string, dir: string, file: string): boolean {
  if (pathspec.startsWith(':')) return true;
  const joined = normalise(dir === '.' || dir === '' ? pathspec : `${dir}/${pathspec}`);
  if (joined === null) return true; // above the top: covers the whole tree as far as we can tell
  if (joined === '') return true;
  if (/[*?[]/.test(joined)) return globRegExp(joined).test(file);
  return file === joined || file.startsWith(`${joined.replace(/\/$/, '')}/`);
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
