import { command as agentHook } from './agent-hook.js';
import { command as check } from './check.js';
import { command as completion } from './completion.js';
import { command as config, setCommand as setConfig } from './config.js';
import { command as doctor } from './doctor.js';
import { command as exportCommand } from './export.js';
import { command as heartbeat } from './heartbeat.js';
import { command as holder } from './holder.js';
import { command as hook } from './hook.js';
import { command as importCommand } from './import.js';
import { command as lock } from './lock.js';
import { command as log } from './log.js';
import { command as mcp } from './mcp.js';
import { command as noteEdit } from './note-edit.js';
import { command as prune } from './prune.js';
import { command as reap } from './reap.js';
import { command as register } from './register.js';
import { command as release } from './release.js';
import { command as status } from './status.js';
import { command as unregister } from './unregister.js';
import { command as whoami } from './whoami.js';
import { command as withLock } from './with-lock.js';

/**
 * Every command, in the order `--help` lists them: the one list the CLI, the library, the MCP server,
 * completion and the docs test are derived from. A new command is its module and one line here.
 */
export const COMMANDS = [
  register,
  heartbeat,
  unregister,
  lock,
  release,
  holder,
  status,
  reap,
  prune,
  noteEdit,
  check,
  agentHook,
  withLock,
  hook,
  completion,
  mcp,
  exportCommand,
  importCommand,
  doctor,
  log,
  whoami,
  config,
  setConfig,
] as const;

export type AnyCommand = (typeof COMMANDS)[number];
