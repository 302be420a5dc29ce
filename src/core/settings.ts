import { formatSpan, MAX_DURATION_MS, parseDuration } from './durations.js';
import { usageError } from './errors.js';
import { describeValue } from './validate.js';

/**
 * Workspace settings: defaults every caller of one registry shares, stored with the registry itself (the
 * state's `harn.settings` member, so the file store and PostgreSQL keep them alike). A setting that was never
 * set has its built-in default. Every setting is a duration for now; a new one is one more entry in SETTINGS.
 */

export interface SettingDefinition {
  /** The name `harn-agents config set` takes. */
  readonly key: string;
  /** Its member in the state's `harn.settings` object. */
  readonly member: string;
  readonly description: string;
  readonly defaultMs: number;
  /** Whether 0 is a valid value (e.g. "keep for ever"); durations are otherwise greater than zero. */
  readonly zeroAllowed: boolean;
  /** What 0 means, when it is allowed (shown by `config`). */
  readonly zeroMeans?: string;
}

export const DEFAULT_AGENT_TIMEOUT_MS = 45_000;
export const DEFAULT_LOCK_TTL_MS = 30_000;
/** Seven days: long enough to see last week's crashed CI jobs in `status`, short enough to stay small. */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;

export const SETTINGS = [
  {
    key: 'agent-timeout',
    member: 'agent_timeout_ms',
    description: 'silence after which an agent registered without --timeout is reaped (its locks freed)',
    defaultMs: DEFAULT_AGENT_TIMEOUT_MS,
    zeroAllowed: false,
  },
  {
    key: 'lock-ttl',
    member: 'lock_ttl_ms',
    description: 'how long a lock taken without --ttl lasts',
    defaultMs: DEFAULT_LOCK_TTL_MS,
    zeroAllowed: false,
  },
  {
    key: 'retention',
    member: 'retention_ms',
    description: 'how long a crashed or gone agent that holds nothing is kept after last seen; every write removes older ones',
    defaultMs: DEFAULT_RETENTION_MS,
    zeroAllowed: true,
    zeroMeans: 'never',
  },
] as const satisfies readonly SettingDefinition[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

/** The values a workspace has set (a key that is absent has its default). */
export type WorkspaceSettings = Partial<Record<SettingKey, number>>;

export const SETTING_KEYS: readonly SettingKey[] = SETTINGS.map((s) => s.key);

/** The definition of a setting named by a user; an unknown name is bad input naming the known ones. */
export function settingDefinition(key: unknown): SettingDefinition & { readonly key: SettingKey } {
  const found = SETTINGS.find((s) => s.key === key);
  if (!found) throw usageError(`unknown setting ${describeValue(key)} (settings: ${SETTING_KEYS.join(', ')})`);
  return found;
}

/** A setting's value as the workspace has it: set, or its default. */
export function settingValue(settings: WorkspaceSettings, key: SettingKey): number {
  return settings[key] ?? settingDefinition(key).defaultMs;
}

/** Parse a value given for a setting ("8h", "45s", a number of ms; "0" where allowed). */
export function parseSettingValue(definition: SettingDefinition, value: unknown): number {
  const what = `config set ${definition.key}`;
  if (definition.zeroAllowed && (value === 0 || (typeof value === 'string' && /^\s*0+\s*(ms|s|m|h|d)?\s*$/.test(value)))) return 0;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_DURATION_MS) throw usageError(`${what}: ${value} is not a duration of 1 ms to 10 years`);
    return value;
  }
  if (typeof value !== 'string') throw usageError(`${what}: the value must be a duration such as 30s, 5m or 8h`);
  return parseDuration(value, what);
}

/** Whether a stored value is one `parseSettingValue` could have produced (the state's validation). */
export function validSettingValue(definition: SettingDefinition, value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value <= MAX_DURATION_MS && (value > 0 || (definition.zeroAllowed && value === 0));
}

/** A value for people: "45s", "8h", or what 0 means. */
export function describeSetting(definition: SettingDefinition, valueMs: number): string {
  return valueMs === 0 && definition.zeroMeans ? definition.zeroMeans : formatSpan(valueMs);
}
