import fs from 'node:fs';
import path from 'node:path';
import { stateError } from '../core/errors.js';
import { describeError, errorCode } from './fs-errors.js';
import { checkOwner, createExclusive, describeKind, notRegularError, openRegular, type OwnerRule } from './safe-fs.js';

/**
 * What AI coding agent sessions have seen of the files they edit, kept beside the registry in
 * `.harn/seen/` (the stale-write protection of `agent-hook`):
 *
 * - `s<session>/r-<reader>/<key>.json`: the content hash a (sub)agent of a session last read or wrote;
 * - `s<session>/base/<key>.json`: the file's hash when the session first claimed it (null: it did not exist),
 *   so an ended session's claim on a file it left as it found it can be let go;
 * - `writes/<key>.json`: who last wrote a file through an agent's tool, and the hash it left.
 *
 * One small file per record, each replaced by a rename: parallel tool calls of one session (Claude Code runs
 * several Reads at once) never lose each other's records, and no lock is needed. Records are local to the
 * machine whose work tree holds the files, whichever store the registry is in. Every file is opened without
 * following symlinks and must be a regular file owned by the caller (safe-fs).
 */

export interface SeenRecord {
  readonly path: string;
  /** Content hash, or null when the file did not exist. */
  readonly hash: string | null;
  readonly atMs: number;
}

export interface WriteRecord extends SeenRecord {
  /** The registry agent of the session that wrote it, and the (sub)agent within it. */
  readonly agent: number;
  readonly reader: string;
}

/** The largest record file read back: a record is a path and a hash. */
const MAX_RECORD_BYTES = 64 * 1024;

/** A short stable key for a path or a reader name (FNV-1a, 2×32 bits): file names stay short and safe. */
export function keyOf(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** A content hash for stale-write detection (not for security: a file is compared with itself over time). */
export function contentHash(data: Uint8Array): string {
  let h1 = 0x811c9dc5 ^ data.length;
  let h2 = 0x9e3779b9;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x85ebca6b) ^ (h2 >>> 13);
  }
  return `${data.length.toString(16)}-${(h1 >>> 0).toString(16).padStart(8, '0')}${(h2 >>> 0).toString(16).padStart(8, '0')}`;
}

export class SeenStore {
  constructor(
    private readonly stateDir: string,
    private readonly rule: OwnerRule,
  ) {}

  private get root(): string {
    return path.join(this.stateDir, 'seen');
  }

  private readerDir(session: string, reader: string): string {
    return path.join(this.root, `s${keyOf(session)}`, `r-${keyOf(reader)}`);
  }

  recordSeen(session: string, reader: string, record: SeenRecord): void {
    this.write(this.readerDir(session, reader), record);
  }

  lastSeen(session: string, reader: string, file: string): SeenRecord | null {
    return this.read(this.readerDir(session, reader), file);
  }

  /** Record a claim's starting content, unless one is already recorded (the first claim's counts). */
  recordBase(session: string, record: SeenRecord): void {
    if (this.read(path.join(this.root, `s${keyOf(session)}`, 'base'), record.path) === null) this.write(path.join(this.root, `s${keyOf(session)}`, 'base'), record);
  }

  base(session: string, file: string): SeenRecord | null {
    return this.read(path.join(this.root, `s${keyOf(session)}`, 'base'), file);
  }

  /** Forget a claim's starting content (the claim ended: committed or discarded). */
  forgetBase(session: string, file: string): void {
    const dir = path.join(this.root, `s${keyOf(session)}`, 'base');
    if (!this.checkDir(dir)) return;
    try {
      fs.unlinkSync(path.join(dir, `${keyOf(file)}.json`));
    } catch {
      // Already gone; anything else planted there is left alone (reading it refuses what is not a regular file).
    }
  }

  recordWrite(record: WriteRecord): void {
    this.write(path.join(this.root, 'writes'), record);
  }

  lastWrite(file: string): WriteRecord | null {
    const record = this.read(path.join(this.root, 'writes'), file);
    return record && typeof (record as Partial<WriteRecord>).agent === 'number' ? (record as WriteRecord) : null;
  }

  /** Forget what one reader (a subagent) has seen. */
  forgetReader(session: string, reader: string): void {
    this.remove(this.readerDir(session, reader));
  }

  /** Forget everything recorded for a session (it ended and its claims are settled). */
  forgetSession(session: string): void {
    this.remove(path.join(this.root, `s${keyOf(session)}`));
  }

  private remove(dir: string): void {
    // Only a real directory of ours is removed; rmSync does not follow a symlink inside it.
    if (this.checkDir(dir)) fs.rmSync(dir, { recursive: true, force: true });
  }

  private read(dir: string, file: string): SeenRecord | null {
    if (!this.checkDir(dir)) return null;
    const opened = openRegular(path.join(dir, `${keyOf(file)}.json`), fs.constants.O_RDONLY, this.rule);
    if (!opened) return null;
    try {
      if (opened.stats.size > MAX_RECORD_BYTES) return null;
      const record: unknown = JSON.parse(fs.readFileSync(opened.fd, 'utf8'));
      if (typeof record !== 'object' || record === null) return null;
      const r = record as Record<string, unknown>;
      // A key names its path: a record for another path (a hash clash, a planted file) is no record.
      if (r.path !== file || !(typeof r.hash === 'string' || r.hash === null) || typeof r.atMs !== 'number') return null;
      return r as unknown as SeenRecord;
    } catch {
      return null;
    } finally {
      fs.closeSync(opened.fd);
    }
  }

  private write(dir: string, record: SeenRecord): void {
    this.ensureDir(dir);
    const target = path.join(dir, `${keyOf(record.path)}.json`);
    const temp = `${target}.tmp-${process.pid}-${Math.floor(Math.random() * 2 ** 32).toString(16)}`;
    try {
      const fd = createExclusive(temp, 0o600);
      try {
        fs.writeSync(fd, JSON.stringify(record));
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, target);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw stateError(`cannot write ${target}: ${describeError(error)}`);
    }
  }

  /** Whether `dir` exists as a real directory of the caller's (a symlink or a file there is refused). */
  private checkDir(dir: string): boolean {
    let stats: fs.Stats;
    try {
      stats = fs.lstatSync(dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
      throw stateError(`cannot read ${dir}: ${describeError(error)}`);
    }
    if (!stats.isDirectory()) throw notRegularError(dir, describeKind(stats), 'a directory');
    checkOwner(dir, stats, this.rule);
    return true;
  }

  /** Make `dir` and its parents below `.harn/`, each checked to be a real directory of ours. */
  private ensureDir(dir: string): void {
    const parts = path.relative(this.stateDir, dir).split(path.sep);
    let current = this.stateDir;
    for (const part of ['', ...parts]) {
      current = part === '' ? current : path.join(current, part);
      if (this.checkDir(current)) continue;
      try {
        fs.mkdirSync(current, { mode: 0o700 });
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw stateError(`cannot create ${current}: ${describeError(error)}`);
      }
      if (!this.checkDir(current)) throw stateError(`cannot create ${current}`);
      if (current === this.stateDir) this.writeGitignore();
    }
  }

  private writeGitignore(): void {
    try {
      const fd = createExclusive(path.join(this.stateDir, '.gitignore'));
      try {
        fs.writeSync(fd, '*\n');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // Already there (or not ours to write): the store writes it with its first state.
    }
  }
}

/** A work-tree file's content hash as it is now, or null when it does not exist (or is not a regular file). */
export function fileHash(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return null;
    // A file too big to read on every edit is compared by size and modification time.
    if (stats.size > 64 * 1024 * 1024) return `big-${stats.size.toString(16)}-${Math.trunc(stats.mtimeMs).toString(16)}`;
    return contentHash(fs.readFileSync(fd));
  } finally {
    fs.closeSync(fd);
  }
}
