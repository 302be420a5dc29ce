import { CommanderError } from 'commander';
import { ExitCode, isHarnError, type ExitCodeValue } from '../core/errors.js';
import { escapeForTerminal } from '../render/escape.js';
import { toJson } from '../render/json.js';
import { buildProgram, type Io, type Outcome } from './program.js';
import { VERSION } from '../core/version.js';

/** Ends every exit-3 and exit-4 line: the command that says what is wrong and how to fix it. */
export const DOCTOR_HINT = " (run 'harn-agents doctor')";

/** Exit 3 and 4 end with the doctor hint, once: some messages already say what doctor can do. */
const withHint = (message: string, code: number): string =>
  (code === ExitCode.state || code === ExitCode.stateLock) && !message.includes('harn-agents doctor') ? `${message}${DOCTOR_HINT}` : message;

/** Map anything thrown to one escaped line on stderr and a documented exit code. */
function reportError(io: Io, error: unknown): ExitCodeValue {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    // commander already printed its message through writeErr below.
    return ExitCode.usage;
  }
  if (isHarnError(error)) {
    const line = escapeForTerminal(error.message);
    io.writeErr(`harn-agents: ${error.doctorCanSee === false ? line : withHint(line, error.exitCode)}\n`);
    return error.exitCode;
  }
  // Not one of ours: a bug, which no repair of the state would fix, so doctor is not suggested.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  io.writeErr(`harn-agents: internal error: ${escapeForTerminal(message)}\n`);
  io.writeErr(`harn-agents: this is a bug in harn-agents ${VERSION}, not a problem with your state; please report it with the command you ran and this message\n`);
  return ExitCode.internal;
}

/** Run one invocation; returns the exit code instead of exiting so it can be tested in-process. */
export async function runCli(io: Io): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(io, async (outcome: Outcome<unknown>) => {
    exitCode = outcome.exitCode?.(outcome.result) ?? ExitCode.ok;
    // A command with nothing to report (mcp, after its session) prints nothing, with --json too.
    if (outcome.result === undefined) return;
    if (program.opts().json) {
      io.writeOut(toJson(outcome.json ? outcome.json(outcome.result) : outcome.result));
      return;
    }
    const rendered = await outcome.text(outcome.result);
    if (rendered.stdout) io.writeOut(rendered.stdout);
    if (rendered.stderr) io.writeErr(rendered.stderr);
  });
  program.exitOverride().configureOutput({
    writeOut: (text) => io.writeOut(text),
    writeErr: (text) => io.writeErr(text),
    // One line per error: commander's message and its suggestion, joined.
    outputError: (text, write) => write(`harn-agents: ${escapeForTerminal(text.replace(/^error: /, '').trim().replace(/\n+/g, ' '))}\n`),
  });
  for (const sub of program.commands) sub.exitOverride().configureOutput(program.configureOutput());
  try {
    if (io.argv.length === 0) {
      io.writeErr(`harn-agents: no command given (try 'harn-agents --help')\n`);
      return ExitCode.usage;
    }
    await program.parseAsync([...io.argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(io, error);
  }
}
