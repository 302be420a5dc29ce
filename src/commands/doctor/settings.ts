import { ExitCode, isHarnError } from '../../core/errors.js';
import { PARSED_VARIABLES } from '../environment.js';
import type { DoctorCheck } from './types.js';

/**
 * Each HARN_* variable that would make a call fail, as `doctor` reports it: the parser's own refusal (the one
 * a call would give, commands/environment.ts), and `unset` it. Anything else thrown is a bug, not a setting.
 */
export function settingsProblems(env: NodeJS.ProcessEnv, cwd: string): DoctorCheck[] {
  const problems: DoctorCheck[] = [];
  for (const [name, parse] of PARSED_VARIABLES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    try {
      parse(value, cwd);
    } catch (error) {
      if (!isHarnError(error) || error.exitCode !== ExitCode.usage) throw error;
      problems.push({ check: 'settings', ok: false, detail: error.message, fix: `unset ${name}` });
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
