import fs from 'node:fs';
import { fdOutput, quietOnEpipe } from './output.js';
import { runCli } from './run.js';

const script = process.argv[1] ?? '';

/** All of this process's stdin (fd 0), read only when a command takes it; empty when there is none to read. */
function readProcessStdin(): Buffer {
  try {
    return fs.readFileSync(0);
  } catch {
    return Buffer.alloc(0);
  }
}

quietOnEpipe();

// No top-level await: the CLI bundle is CommonJS (scripts/build.mjs says why).
void runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  // Getters: only the calls that need them pay for them (process.stdout loads Node's stream modules).
  get stdoutIsTty() {
    return process.stdout.isTTY === true;
  },
  get columns() {
    return process.stdout.columns;
  },
  get selfCommand() {
    return [process.execPath, fs.existsSync(script) ? fs.realpathSync(script) : script];
  },
  readStdin: readProcessStdin,
  ...fdOutput(),
}).then((exitCode) => {
  // Let pending output drain instead of calling process.exit().
  process.exitCode = exitCode;
});
