import fs from 'node:fs';
import path from 'node:path';
import { textHash64 } from '../core/sha256.js';
import { VERSION } from '../core/version.js';

/**
 * Where the session keeper of one configuration listens: a Unix socket in a directory of the user's own,
 * `harn-agents-<uid>/` in `$XDG_RUNTIME_DIR` when that is set, else in `$TMPDIR` or /tmp (as tmux and
 * ssh-agent do; the uid in the name, so a call run as another user, root under sudo, never takes the
 * user's name for itself). The directory must be a real directory (not a symlink), owned by this user and closed to
 * everyone else (mode 0700): anything else, and no keeper is used (the call connects directly, and says why
 * under HARN_DEBUG). Only this user's processes (and root) can reach the socket.
 *
 * The socket's name is a hash (64 bits; only this user's processes can reach the directory) of everything the keeper's sessions depend on: the URL (password included,
 * so a credential change never reaches an old session), the wait that sets their timeouts, the environment
 * the pg client reads (PG*, and USER, the role it logs in as when the URL names none), the password file
 * it would read (which one, and its size and time), the TLS trust, the Node binary, and this build's
 * version and keeper entry. So a keeper only ever serves calls that would have opened exactly the session
 * it holds, as the same role.
 */
export interface KeeperPlace {
  readonly socket: string;
  readonly dir: string;
}

/**
 * Unix sockets' paths are limited to 107 bytes on Linux (108 with the terminating NUL); a keeper first
 * listens at the socket's name plus `.<pid>` (pg-keeper.ts), so the name leaves room for that.
 */
const MAX_SOCKET_PATH = 96;

export function keeperPlace(url: string, waitMs: number, entry: string, env: Readonly<Record<string, string | undefined>>): KeeperPlace | { unusable: string } {
  const uid = process.getuid?.();
  if (uid === undefined) return { unusable: 'no user id on this platform' };
  const runtime = env.XDG_RUNTIME_DIR;
  const base = runtime && path.isAbsolute(runtime) ? runtime : env.TMPDIR && path.isAbsolute(env.TMPDIR) ? env.TMPDIR : '/tmp';
  const dir = path.join(base, `harn-agents-${uid}`);
  let build: fs.Stats;
  try {
    build = fs.statSync(entry);
  } catch {
    return { unusable: `the keeper's entry ${entry} is missing` };
  }
  const pgEnv = Object.keys(env)
    .filter((key) => key.startsWith('PG'))
    .sort()
    .map((key) => [key, env[key]]);
  // pg's defaults: the role is $USER (Windows: USERNAME), the password file PGPASSFILE or ~/.pgpass.
  const passFile = env.PGPASSFILE || (env.HOME ? path.join(env.HOME, '.pgpass') : '');
  const pass = passFile ? fileStamp(passFile) : null;
  const key = JSON.stringify([
    VERSION, entry, build.size, build.mtimeMs, process.execPath, url, waitMs, pgEnv,
    env.USER ?? null, env.USERNAME ?? null, passFile, pass, env.NODE_EXTRA_CA_CERTS ?? null, env.NODE_TLS_REJECT_UNAUTHORIZED ?? null,
  ]);
  const socket = path.join(dir, `${textHash64(key)}.sock`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) return { unusable: `the socket's path would be too long (${socket})` };
  return { socket, dir };
}

/** A file's size and time, or null when there is none: what a keeper's password file was when it started. */
function fileStamp(file: string): [number, number] | null {
  try {
    const stat = fs.statSync(file);
    return [stat.size, stat.mtimeMs];
  } catch {
    return null;
  }
}

/**
 * Whether `dir` is this user's private directory, creating it (0700) when missing. A reason when it is not:
 * a symlink, another user's, open to others, or not a directory: such a place is never used or changed.
 */
export function privateDirProblem(dir: string, create: boolean): string | null {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !create) return `${dir}: ${(error as Error).message}`;
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
      stat = fs.lstatSync(dir);
    } catch (mkdirError) {
      return `cannot create ${dir}: ${(mkdirError as Error).message}`;
    }
  }
  if (stat.isSymbolicLink()) return `${dir} is a symbolic link`;
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  if (stat.uid !== process.getuid?.()) return `${dir} belongs to another user (uid ${stat.uid})`;
  if ((stat.mode & 0o077) !== 0) return `${dir} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); it must be 700`;
  return null;
}
