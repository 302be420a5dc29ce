// JSON.stringify leaves DEL, C1 controls, bidi overrides and line separators raw; escape them too, so JSON
// output is as safe on a terminal as the text (it stays the same JSON value).
// eslint-disable-next-line no-control-regex
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A result as one JSON document (pretty, or one line with `compact`), safe to print on a terminal. */
export function toJson(value: unknown, compact = false): string {
  const json = JSON.stringify(value, null, compact ? undefined : 2);
  // Every unsafe character is U+007F or above. A document in ASCII without DEL (its UTF-8 as long as it is)
  // has none: two native scans tell, where the replace's own scan cost as much as both on a 15 MB status.
  if (json.indexOf('\u007f') === -1 && Buffer.byteLength(json, 'utf8') === json.length) return `${json}\n`;
  return `${json.replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
