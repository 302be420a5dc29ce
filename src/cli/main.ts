import fs from 'node:fs';
import { runCli } from './run.js';

const script = process.argv[1] ?? '';

// A reader that goes away (`harn-agents status | head`) is not an error worth a stack trace: the command's
// work is already done by the time it prints, so stop quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdoutIsTty: process.stdout.isTTY === true,
  selfCommand: [process.execPath, fs.existsSync(script) ? fs.realpathSync(script) : script],
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
});
// Let pending output drain instead of calling process.exit().
process.exitCode = exitCode;
