import fs from 'node:fs';
import { runCli } from './run.js';

const script = process.argv[1] ?? '';

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
