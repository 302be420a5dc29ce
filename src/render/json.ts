// JSON.stringify leaves DEL, C1 controls, bidi overrides and line separators raw; escape them too, so JSON
// output is as safe on a terminal as the text (it stays the same JSON value).
// eslint-disable-next-line no-control-regex
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A result as one JSON document (pretty, or one line with `compact`), safe to print on a terminal. */
export const toJson = (value: unknown, compact = false): string =>
  `${JSON.stringify(value, null, compact ? undefined : 2).replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;

