import ms from 'ms';
import { usageError } from './errors.js';

// `ms` parses the units users type ("1500ms", "30s", "5m", "1h", "2d", a bare number of ms). Anything
// it does not understand, and zero, negative, fractional-ms or absurdly long values, is bad input.
export const MAX_DURATION_MS = 315_576_000_000; // 10 years of 365.25 days, as `ms` counts "10y"

/** Parse a duration given by a user (`what` names it in the error, e.g. "--ttl"). */
export function parseDuration(text: string, what: string): number {
  const trimmed = text.trim();
  const value = trimmed.length > 0 && trimmed.length <= 32 ? ms(trimmed as ms.StringValue) : undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw usageError(`${what}: '${text}' is not a duration (use e.g. 1500ms, 30s, 5m, 1h, or a number of ms)`);
  }
  if (value <= 0) throw usageError(`${what}: the duration must be greater than zero (got '${text}')`);
  if (!Number.isInteger(value)) throw usageError(`${what}: '${text}' is not a whole number of milliseconds`);
  if (value > MAX_DURATION_MS) throw usageError(`${what}: '${text}' is longer than the maximum of 10 years`);
  return value;
}

/** A short human form of a span of milliseconds: "850ms", "12s", "4m10s", "2h5m", "3d4h". */
export function formatSpan(spanMs: number): string {
  const abs = Math.abs(spanMs);
  if (abs < 1000) return `${Math.round(abs)}ms`;
  const s = Math.floor(abs / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** A duration as the CLI takes it ("30s", "5m", "1500ms") or a number of milliseconds. */
export type Duration = string | number;
