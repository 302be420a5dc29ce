#!/usr/bin/env node
// Runs the whole vitest suite several times in a row while other processes keep every core busy, and
// says how each run went: the check that the suite is not flaky on a loaded machine (issue 12).
//
//   node scripts/test-under-load.mjs [--runs N] [--burners N]     (npm run test:load -- --runs 10)
//
// Burners are plain busy loops, one per core by default, so the tests compete for CPU the way they do
// beside other engineers' builds. Exit 0 only when every run passed every test.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`test-under-load: ${name} takes a whole number, not ${JSON.stringify(process.argv[at + 1])}`);
    process.exit(2);
  }
  return value;
}

const runs = option('--runs', 10);
const burnerCount = option('--burners', os.availableParallelism());
const root = path.resolve(import.meta.dirname, '..');
const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'harn-load-'));
const report = path.join(reportDir, 'vitest.json');
process.on('exit', () => fs.rmSync(reportDir, { recursive: true, force: true }));

const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const burners = Array.from({ length: burnerCount }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
const stopBurners = () => burners.forEach((b) => b.kill('SIGKILL'));
process.on('exit', stopBurners);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

console.log(`${runs} runs of the suite, ${burnerCount} busy loop(s) beside it on ${os.availableParallelism()} core(s)`);
let failedRuns = 0;
for (let run = 1; run <= runs; run++) {
  const started = Date.now();
  const vitest = spawnSync(path.join(root, 'node_modules/.bin/vitest'), ['run', '--reporter=json', `--outputFile=${report}`], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  let summary = `exit ${vitest.status}`;
  const failures = [];
  try {
    const result = JSON.parse(fs.readFileSync(report, 'utf8'));
    summary = `${result.numPassedTests} passed, ${result.numFailedTests} failed`;
    for (const file of result.testResults) {
      for (const test of file.assertionResults) if (test.status === 'failed') failures.push(`${path.relative(root, file.name)} > ${test.fullName}`);
    }
    fs.rmSync(report, { force: true });
  } catch {
    failures.push(`no report: ${vitest.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const load = os.loadavg()[0].toFixed(1);
  console.log(`run ${run}: ${summary} in ${seconds} s (load average ${load})`);
  for (const failure of failures) console.log(`  failed: ${failure}`);
  if (vitest.status !== 0 || failures.length > 0) failedRuns++;
}
console.log(`${runs - failedRuns} of ${runs} runs passed`);
process.exit(failedRuns === 0 ? 0 : 1);
