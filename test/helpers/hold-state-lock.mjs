// Takes the state lock of a workspace exactly as the CLI does, prints "locked", then idles until killed.
// Used to stand for a CLI process that dies (kill -9) or stalls while it holds the lock.
import lockfile from 'proper-lockfile';
import fs from 'node:fs';
import path from 'node:path';

const statePath = path.join(process.argv[2], '.harn', 'agents.json');
fs.mkdirSync(path.dirname(statePath), { recursive: true });
await lockfile.lock(statePath, { realpath: false, stale: 5000, update: 1000, onCompromised: () => {} });
process.stdout.write('locked\n');
setInterval(() => {}, 1 << 30);
