import fs from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../../core/durations.js';
import type { DoctorCheck } from './types.js';
import { parseAgentId } from '../argv.js';

/** Each HARN_* variable that would make a call fail, as `doctor` reports it: what is wrong, and `unset` it. */
export function settingsProblems(env: NodeJS.ProcessEnv, cwd: string): DoctorCheck[] {
  const checks: Array<[string, (value: string) => void]> = [
    ['HARN_LOCK_TTL', (v) => parseDuration(v, 'HARN_LOCK_TTL')],
    ['HARN_AGENT_TIMEOUT', (v) => parseDuration(v, 'HARN_AGENT_TIMEOUT')],
    ['HARN_STATE_LOCK_WAIT', (v) => parseDuration(v, 'HARN_STATE_LOCK_WAIT')],
    ['HARN_AGENT_ID', (v) => parseAgentId(v, 'HARN_AGENT_ID')],
    ['HARN_GUARD', (v) => must(['on', 'warn', 'off'].includes(v), `HARN_GUARD must be on, warn or off (got '${v}')`)],
    ['HARN_STORE', (v) => must(v === 'file' || /^postgres(ql)?:\/\//i.test(v), `HARN_STORE: '${v}' is not a store (use file or a postgres:// URL)`)],
    ['HARN_WORKSPACE', (v) => must(isDirectory(path.resolve(cwd, v)), `HARN_WORKSPACE ${v} is not a directory`)],
  ];
  const problems: DoctorCheck[] = [];
  for (const [name, parse] of checks) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    try {
      parse(value);
    } catch (error) {
      problems.push({ check: 'settings', ok: false, detail: error instanceof Error ? error.message : String(error), fix: `unset ${name}` });
    }
  }
  return problems;
}

/** The environment without the variables `settingsProblems` refused, so doctor can go on checking the rest. */
export function withoutBadSettings(env: NodeJS.ProcessEnv, problems: readonly DoctorCheck[]): NodeJS.ProcessEnv {
  const clean = { ...env };
  for (const p of problems) if (p.fix?.startsWith('unset ')) delete clean[p.fix.slice('unset '.length)];
  return clean;
}

function must(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
