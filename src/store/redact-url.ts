/**
 * Passwords out of connection strings, for messages. Covers what the PostgreSQL client accepts (a URL with a
 * password in its user part, percent-encoded or not, or in `?password=`) and libpq's `key=value` strings,
 * which a user may pass by mistake. Hand-written rather than pg-connection-string, which belongs to the
 * lazily loaded client and reads certificate files as it parses; test/unit/namespace-redact.test.ts checks
 * that no password pg-connection-string finds survives. When a string cannot be parsed, more is hidden,
 * never less.
 */

const HIDDEN = '***';
/** Keys whose values are secrets (libpq: password, sslpassword). */
const SECRET_KEY = /pass/i;
const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i;

/** `text` with every password replaced by ***. */
export function redactUrl(text: string): string {
  return scan(text).redacted;
}

/** `message` with any of the passwords in `connection` replaced by *** (for errors from the client). */
export function scrubSecrets(message: string, connection: string): string {
  let out = message;
  // Longest first, so a password that contains another is hidden whole; very short ones would garble text.
  for (const secret of [...scan(connection).secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) out = out.split(secret).join(HIDDEN);
  }
  return out;
}

interface Scan {
  readonly redacted: string;
  readonly secrets: Set<string>;
}

function scan(text: string): Scan {
  const secrets = new Set<string>();
  const found = (value: string): void => {
    if (!value) return;
    secrets.add(value);
    try {
      secrets.add(decodeURIComponent(value));
    } catch {
      // not percent-encoded
    }
  };
  if (URL_START.test(text)) return { redacted: redactUrlForm(text, found), secrets };
  if (text.includes('=')) return { redacted: redactKeyValue(text, found), secrets };
  return { redacted: text, secrets };
}

function redactUrlForm(text: string, found: (secret: string) => void): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  // An '@' past the host means the parser and the user disagree about where the password ends (an
  // unencoded '/', '?' or '#' in it): take everything up to the last '@' as the user part instead.
  if (url && !`${url.pathname}${url.search}${url.hash}`.includes('@')) {
    if (url.password) {
      found(url.password);
      url.password = HIDDEN;
    }
    for (const [key, value] of [...url.searchParams]) {
      if (SECRET_KEY.test(key)) {
        found(value);
        url.searchParams.set(key, HIDDEN);
      }
    }
    return url.toString();
  }
  const schemeEnd = text.indexOf('://') + 3;
  let rest = redactQueryText(text.slice(schemeEnd), found);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const user = rest.slice(0, at);
    const colon = user.indexOf(':');
    if (colon >= 0) {
      found(user.slice(colon + 1));
      rest = `${user.slice(0, colon)}:${HIDDEN}${rest.slice(at)}`;
    }
  }
  return text.slice(0, schemeEnd) + rest;
}

/** `password=...` pairs anywhere in a URL that did not parse. */
function redactQueryText(text: string, found: (secret: string) => void): string {
  return text.replace(/([?&;])([^=&?;#]*)=([^&#]*)/g, (pair, sep: string, key: string, value: string) => {
    if (!SECRET_KEY.test(key)) return pair;
    found(value);
    return `${sep}${key}=${HIDDEN}`;
  });
}

/**
 * libpq's `key=value` form: pairs separated by spaces, spaces allowed around '=', a value either bare or in
 * single quotes, with backslash escaping the next character in both.
 */
function redactKeyValue(text: string, found: (secret: string) => void): string {
  const parts: string[] = [];
  let i = 0;
  const n = text.length;
  const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
  while (i < n) {
    while (isSpace(text[i])) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && text[i] !== '=' && !isSpace(text[i])) i++;
    const key = text.slice(keyStart, i);
    while (isSpace(text[i])) i++;
    if (text[i] !== '=') return hideFromFirstSecret(text);
    i++;
    while (isSpace(text[i])) i++;
    let raw = '';
    let value = '';
    if (text[i] === "'") {
      const start = i++;
      while (i < n && text[i] !== "'") {
        if (text[i] === '\\') i++;
        if (i < n) value += text[i++];
      }
      if (i >= n) return hideFromFirstSecret(text); // unterminated quote
      i++;
      raw = text.slice(start, i);
    } else {
      const start = i;
      while (i < n && !isSpace(text[i])) {
        if (text[i] === '\\') i++;
        if (i < n) value += text[i++];
      }
      raw = text.slice(start, i);
    }
    if (SECRET_KEY.test(key)) {
      found(value);
      found(raw);
      parts.push(`${key}=${HIDDEN}`);
    } else {
      parts.push(`${key}=${raw}`);
    }
  }
  return parts.join(' ');
}

/** For a string that is not valid `key=value`: cut it at the first secret-looking key. */
function hideFromFirstSecret(text: string): string {
  const match = /pass[^=\s]*\s*=/i.exec(text);
  return match ? `${text.slice(0, match.index + match[0].length)}${HIDDEN}` : text;
}
