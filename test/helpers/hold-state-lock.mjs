// Takes the state lock of a workspace exactly as the CLI does, prints "locked", then idles until killed.
// Used to stand for a CLI process that dies (kill -9) or stalls while it holds the lock.
import fs from 'node:fs';
import path from 'node:path';
import { acquireStateLock } from '../../dist/lazy/state-lock.cjs';

const statePath = path.join(process.argv[2], '.harn', 'agents.json');
fs.mkdirSync(path.dirname(statePath), { recursive: true });
await acquireStateLock(statePath);
process.stdout.write('locked\n');
setInterval(() => {}, 1 << 30);
