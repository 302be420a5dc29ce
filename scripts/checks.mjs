// The checks `npm test` runs before vitest, at once rather than one after another: they are independent
// (the build writes dist/, which only vitest reads), and none keeps both cores busy for long, so together
// they take about the time of the longest (the type check) instead of the sum. Each runs as its npm script;
// its output is printed whole when it ends, so outputs never interleave. Exits 1 if any fails, naming it.
import { spawn } from 'node:child_process';

const SCRIPTS = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const results = await Promise.all(
  SCRIPTS.map(
    (script) =>
      new Promise((resolve) => {
        const child = spawn(npm, ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        const output = [];
        child.stdout.on('data', (chunk) => output.push(chunk));
        child.stderr.on('data', (chunk) => output.push(chunk));
        child.on('error', (error) => {
          process.stderr.write(`npm run ${script} could not start: ${error.message}\n`);
          resolve({ script, ok: false });
        });
        child.on('close', (code, signal) => {
          const ok = code === 0;
          const text = Buffer.concat(output);
          if (text.length > 0) process.stdout.write(text);
          if (!ok) process.stderr.write(`npm run ${script} failed (${signal ?? `exit ${code}`})\n`);
          resolve({ script, ok });
        });
      }),
  ),
);
const failed = results.filter((r) => !r.ok).map((r) => r.script);
if (failed.length > 0) {
  process.stderr.write(`checks failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
