import path from 'node:path';

/**
 * A workspace's default namespace in a shared database, from its git remote: the host (lower-cased) and the
 * path, without user, password, scheme, port, `.git` suffix or trailing slash. So every clone of one
 * repository shares a namespace whatever form its remote takes (`https://alice:TOKEN@github.com/acme/app.git`,
 * `git@github.com:acme/app.git`, `ssh://git@github.com:22/acme/app` are all `github.com/acme/app`), and no
 * credential reaches the database or a message. A local remote (a path or `file://` URL) is its absolute
 * path, without `.git`. Returns '' when nothing is left (the caller then uses the directory's name).
 */
export function namespaceFromRemote(remote: string, root: string): string {
  const text = remote.trim();
  // A remote helper, `<transport>::<address>`: the address is what names the repository.
  const helper = /^[A-Za-z][A-Za-z0-9+.-]*::(.*)$/s.exec(text);
  if (helper) return namespaceFromRemote(helper[1] ?? '', root);

  const url = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(text);
  if (url) {
    const scheme = (url[1] ?? '').toLowerCase();
    const rest = (url[2] ?? '').replace(/[?#].*$/s, '');
    if (scheme === 'file') return localPath(decodePath(rest.replace(/^[^/]*/, '')), root);
    // Everything up to the last '@' is credentials, even if it holds a '/': hide too much, never too little.
    const afterUser = rest.slice(rest.lastIndexOf('@') + 1);
    const slash = afterUser.indexOf('/');
    const hostPort = slash < 0 ? afterUser : afterUser.slice(0, slash);
    return join(stripPort(hostPort), slash < 0 ? '' : afterUser.slice(slash));
  }

  // scp-like `[user@]host:path`, git's rule: a ':' before any '/'.
  const colon = scpColon(text);
  if (colon >= 0) {
    const userHost = text.slice(0, colon);
    return join(userHost.slice(userHost.lastIndexOf('@') + 1), text.slice(colon + 1));
  }
  return localPath(text, root);
}

/**
 * The index of the ':' that ends an scp-like remote's host, else -1: git's rule, a ':' before any '/'. The
 * user part ends at the last '@' before the first '/', so a password holding ':' is not taken for the host.
 */
function scpColon(text: string): number {
  const slash = text.indexOf('/');
  const head = slash < 0 ? text : text.slice(0, slash);
  let from = head.lastIndexOf('@') + 1;
  if (text[from] === '[') from = text.indexOf(']', from); // [::1]:repo
  if (from < 0) return -1;
  const colon = text.indexOf(':', from);
  return colon > 0 && (slash < 0 || colon < slash) ? colon : -1;
}

function stripPort(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(0, hostPort.indexOf(']') + 1);
  const colon = hostPort.indexOf(':');
  return colon < 0 ? hostPort : hostPort.slice(0, colon);
}

function join(host: string, repoPath: string): string {
  const cleanHost = host.toLowerCase();
  const cleanPath = trimRepoPath(`/${repoPath}`);
  if (!cleanHost) return cleanPath === '/' ? '' : cleanPath;
  return cleanPath === '/' ? cleanHost : `${cleanHost}${cleanPath}`;
}

function localPath(p: string, root: string): string {
  return p ? trimRepoPath(path.resolve(root, p)) : '';
}

/** Single slashes, no trailing slash, no `.git` suffix (nor `/.git`, a non-bare repository's git dir). */
function trimRepoPath(p: string): string {
  const collapsed = p.replace(/\/{2,}/g, '/').replace(/(.)\/+$/, '$1');
  const bare = collapsed.replace(/\.git$/, '').replace(/(.)\/+$/, '$1');
  return bare || '/';
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}
