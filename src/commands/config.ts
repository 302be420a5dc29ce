import type { Duration } from '../core/durations.js';
import { usageError } from '../core/errors.js';
import { SETTING_KEYS, SETTINGS, describeSetting, parseSettingValue, settingDefinition, type SettingKey, type WorkspaceSettings } from '../core/settings.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import type { Rendered } from '../render/text.js';
import { defineCommand } from './command.js';
import type { Context } from './context.js';

/**
 * `harn-agents config`: the workspace's settings, stored with the registry so every caller of the workspace
 * (CLI, hooks, MCP servers, the library; on this machine or, with PostgreSQL, any) agrees on them.
 */

export interface SettingView {
  readonly key: SettingKey;
  readonly value_ms: number;
  /** The value for people ("45s", "8h"). */
  readonly value: string;
  /** `workspace`: set with `config set`; `default`: never set (the built-in default). */
  readonly source: 'workspace' | 'default';
  readonly default_ms: number;
  readonly description: string;
}

export interface ConfigResult {
  readonly workspace: string;
  readonly settings: readonly SettingView[];
  /** For `set` and `unset`: the setting named, and whether the stored value changed. */
  readonly key?: SettingKey;
  readonly changed?: boolean;
}

export type ConfigAction = { readonly action: 'show' } | { readonly action: 'set'; readonly key: string; readonly value: unknown } | { readonly action: 'unset'; readonly key: string };

/** Every setting with its value and where the value comes from (the shape `status --json` shows too). */
export function settingsView(settings: Readonly<WorkspaceSettings>): SettingView[] {
  return SETTINGS.map((definition) => {
    const stored = settings[definition.key];
    const valueMs = stored ?? definition.defaultMs;
    return {
      key: definition.key,
      value_ms: valueMs,
      value: describeSetting(definition, valueMs),
      source: stored === undefined ? 'default' : 'workspace',
      default_ms: definition.defaultMs,
      description: definition.description,
    };
  });
}

/** Show, set or unset the workspace's settings. Bad keys and values are refused before the state is read. */
export async function config(ctx: Context, given: ConfigAction): Promise<ConfigResult> {
  const workspace = ctx.workspace.root;
  if (given.action === 'show') {
    return ctx.store.transact('query', ({ registry }) => ({ workspace, settings: settingsView(registry.settings) }));
  }
  if (given.action !== 'set' && given.action !== 'unset') throw usageError(`config: unknown action '${String((given as { action: unknown }).action)}' (use set or unset)`);
  const definition = settingDefinition(given.key);
  const valueMs = given.action === 'set' ? parseSettingValue(definition, given.value) : undefined;
  return ctx.store.transact('update', ({ registry }) => {
    const changed = registry.setSetting(definition.key, valueMs);
    return { workspace, settings: settingsView(registry.settings), key: definition.key, changed };
  });
}

/** `config`: one line per setting ("agent-timeout  8h  set for this workspace: ..."), or what changed. */
export function renderConfig(r: ConfigResult): Rendered {
  const width = Math.max(...r.settings.map((s) => s.key.length));
  const lines = r.settings.map((s) => `${s.key.padEnd(width)}  ${s.value.padEnd(6)}  ${s.source === 'workspace' ? 'set for this workspace' : 'default'}: ${s.description}`);
  const named = r.settings.find((s) => s.key === r.key);
  const head = named
    ? [r.changed ? `${named.key} is now ${named.value}${named.source === 'default' ? ' (the default)' : ''} in ${esc(r.workspace)}` : `${named.key} was already ${named.value}; nothing changed`]
    : [`settings of ${esc(r.workspace)}:`];
  return { stdout: [...head, ...(named ? [] : lines)].map((l) => `${l}\n`).join(''), stderr: '' };
}

/** What the command line asks for: nothing (show), `set KEY VALUE` or `unset KEY`; anything else is exit 2. */
function cliAction(action: string | undefined, key: string | undefined, value: string | undefined): ConfigAction {
  if (action === undefined) return { action: 'show' };
  if (action !== 'set' && action !== 'unset') throw usageError(`config: unknown action '${action}' (use set or unset, or nothing to show the settings)`);
  if (key === undefined) throw usageError(`config ${action}: name a setting (${SETTING_KEYS.join(', ')})`);
  if (action === 'set' && value === undefined) throw usageError(`config set ${key}: give a value, e.g. 10m`);
  if (action === 'unset' && value !== undefined) throw usageError(`config unset ${key}: takes no value`);
  return action === 'set' ? { action, key, value } : { action, key };
}

/**
 * No MCP tool: a session's settings are stated in its tool descriptions and `whoami`, and `status` carries the
 * workspace's; changing what every caller of the workspace gets is left to people.
 */
export const command = defineCommand({
  name: 'config',
  run: config,
  render: renderConfig,
  cli: {
    description: "show or change the workspace's settings (shared by every caller of its registry)",
    arguments: [
      { name: '[action]', help: 'set or unset (none: show every setting)', words: ['set', 'unset'] },
      { name: '[key]', help: SETTING_KEYS.join(' or '), words: SETTING_KEYS },
      { name: '[value]', help: 'with set: a duration such as 45s, 30m or 8h' },
    ],
    examples: ['harn-agents config', 'harn-agents config set agent-timeout 10m', 'harn-agents config unset agent-timeout', 'harn-agents config --json'],
    notes: 'agent-timeout applies to agents registered without --timeout; lock-ttl to locks taken without --ttl.\n',
    input: ({ args }) => cliAction(args[0] as string | undefined, args[1] as string | undefined, args[2] as string | undefined),
  },
  library: { method: 'config', input: (): ConfigAction => ({ action: 'show' }) },
});

/** The library's `setConfig(key, value)`: set a workspace setting for every caller; null unsets it (its default). */
export const setCommand = defineCommand({
  name: 'config set',
  run: config,
  render: renderConfig,
  library: {
    method: 'setConfig',
    input: (key: string, value: Duration | null): ConfigAction => (value === null ? { action: 'unset', key } : { action: 'set', key, value }),
  },
});
