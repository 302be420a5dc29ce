/**
 * Make text from the state file or the command line safe to print on a terminal: control characters
 * (C0, DEL, C1), and the bidirectional overrides and isolates that can disguise text, are shown as escapes
 * (`\n`, `\x1b`, `\u202e`) instead of being sent raw. Everything else, including other non-ASCII text, is
 * kept as it is.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
