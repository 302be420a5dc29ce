// Bundles the CLI into dist/: one CommonJS file with everything a quiet read-only call needs, so start-up
// reads and compiles one script (with the V8 code cache made below); and, under dist/lazy/, self-contained
// bundles that only some calls load (the table and colours for `status`, the MCP server, the PostgreSQL
// client). The library (dist/api.js) is one ES module. The type check is `npm run typecheck` (tsc --noEmit).
//
// Why CommonJS for the CLI (docs/performance.md): on Node 20, an ES module entry loads the ESM loader, and
// `import fs from 'node:fs'` in an ES module builds the module's ESM facade, which reads `fs.promises` and so
// compiles Node's fs/promises, stream and readline internals (about 20 modules) that no quiet call uses.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

/** Modules the main bundle loads with `import()` on demand; each becomes dist/lazy/<name>.cjs. */
const LAZY = ['src/commands/status/status-table.ts', 'src/mcp/server.ts', 'src/store/pg-store.ts'];
// The session keeper's process: started by a CLI call on PostgreSQL, never loaded by one. And the pg client
// (pg-direct), which the PostgreSQL store loads only for a session of its own, not for one the keeper lends.
const KEEPER = ['src/store/pg-keeper-main.ts', 'src/store/pg-direct.ts'];
/** Dynamic imports inside the lazy bundles that become bundles of their own (a sibling dist/lazy/<name>.cjs). */
const SIBLINGS = ['pg-direct'];
const lazyName = (file) => path.basename(file, '.ts');
// The state lock and the atomic writer are small, so every write gets them from the main bundle (and its
// code cache); state-lock is also built alone, for tests that hold the lock as the CLI does.
const ALONE = [...LAZY, ...KEEPER, 'src/store/state-lock.ts'];

// What pg does when it is loaded that a call on Node does not need (the build fails if a piece of pg's source
// this expects has changed: each edit must find its text):
// - it asks whether it runs in a Cloudflare Worker by touching the global `Response`, which makes Node 20
//   load its whole fetch implementation (undici): about 7 ms of every PostgreSQL call;
// - it loads `dns` for its native binding's connection string only (not installed): about 0.5 ms.
const PG_EDITS = [
  { file: /[\\/]pg[\\/]lib[\\/]stream\.js$/, find: 'function isCloudflareRuntime() {', put: 'function isCloudflareRuntime() {\n  return false;' },
  {
    file: /[\\/]pg[\\/]lib[\\/]connection-parameters\.js$/,
    find: "const dns = require('dns')",
    put: "let dnsModule\nconst dns = { lookup: (...args) => (dnsModule ??= require('dns')).lookup(...args) }",
  },
];
const nodeOnlyPg = {
  name: 'node-only-pg',
  setup(b) {
    for (const edit of PG_EDITS) {
      b.onLoad({ filter: edit.file }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes(edit.find)) throw new Error(`${args.path}: pg's source has changed ('${edit.find}' is gone); update scripts/build.mjs (PG_EDITS)`);
        return { contents: source.replace(edit.find, edit.put), loader: 'js' };
      });
    }
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: process.env.HARN_BUILD_NOMINIFY ? false : true,
  define: { __HARN_VERSION__: JSON.stringify(pkg.version) },
  // pg loads the optional native binding only when asked to; it is not installed.
  external: ['pg-native'],
  logLevel: 'warning',
  plugins: [nodeOnlyPg],
};

/** The CLI's bundles: CommonJS, `import()` of a lazy part becoming a require() of its own bundle. */
const cjs = {
  ...common,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  supported: { 'dynamic-import': false },
};

/** The library: an ES module. */
const esm = {
  ...common,
  format: 'esm',
  // Bundled CommonJS dependencies call require() for Node built-ins and read __filename.
  banner: {
    js: [
      "import { createRequire as __harnCreateRequire } from 'node:module';",
      "import { fileURLToPath as __harnFileURLToPath } from 'node:url';",
      'const require = __harnCreateRequire(import.meta.url);',
      'const __filename = __harnFileURLToPath(import.meta.url);',
    ].join(' '),
  },
};

// Keep the lazy modules out of the main bundle: their dynamic imports point at dist/lazy/ instead.
const lazyExternal = {
  name: 'lazy-external',
  setup(b) {
    const names = new Set(LAZY.map(lazyName));
    b.onResolve({ filter: /\.js$/ }, (args) => {
      const name = path.basename(args.path, '.js');
      if (args.kind !== 'dynamic-import' || !names.has(name)) return undefined;
      return { path: `./lazy/${name}.cjs`, external: true };
    });
  },
};

// Inside dist/lazy/: pg-store's import() of pg-direct becomes a require() of the sibling bundle (loaded, with
// its code cache, by bin/harn-agents.js), so a call the keeper serves does not read or compile pg.
const siblingExternal = {
  name: 'sibling-external',
  setup(b) {
    b.onResolve({ filter: /\.js$/ }, (args) => {
      const name = path.basename(args.path, '.js');
      if (args.kind !== 'dynamic-import' || !SIBLINGS.includes(name)) return undefined;
      return { path: `./${name}.cjs`, external: true };
    });
  },
};

// Built-ins that only some calls use are required on first use, not at start-up: child_process (which loads
// net, dgram, ...) for git and with-lock, os for signal numbers. commander requires child_process only for
// executable subcommands, which this CLI does not use.
const LAZY_BUILTINS = ['child_process', 'os'];
const requireBuiltin = createRequire(import.meta.url);
/** An ES module standing for built-in `name`: each export loads the real module on first use. */
function lazyBuiltinSource(name) {
  const real = requireBuiltin(`node:${name}`);
  const lines = [`let real; const load = () => (real ??= require('node:${name}'));`];
  for (const key of Object.keys(real)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(key) || key === 'default') continue;
    if (typeof real[key] === 'function') {
      lines.push(`export function ${key}(...args) { return new.target ? Reflect.construct(load().${key}, args) : load().${key}.apply(this, args); }`);
    } else if (typeof real[key] === 'object' && real[key] !== null) {
      lines.push(`export const ${key} = new Proxy({}, { get: (_t, k) => load().${key}[k], has: (_t, k) => k in load().${key}, ownKeys: () => Reflect.ownKeys(load().${key}), getOwnPropertyDescriptor: (_t, k) => Reflect.getOwnPropertyDescriptor(load().${key}, k) });`);
    }
    // Anything else (a string such as os.EOL) is not offered: a bundle that imports it fails to build.
  }
  return lines.join('\n');
}
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`) }, (args) =>
      // The stand-in's own require() is of the real module.
      args.namespace === 'harn-lazy' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'harn-lazy' },
    );
    b.onLoad({ filter: /.*/, namespace: 'harn-lazy' }, (args) => ({ contents: lazyBuiltinSource(args.path), loader: 'js' }));
  },
};

// `import fs from 'node:fs'` bundled as CommonJS becomes __toESM(require('node:fs')), which copies each of
// the module's ~100 exports onto a new object as a getter, once per importing file (about 40 in the CLI):
// 2-3 ms of every call's start. The sources only ever import fs and path whole (`import fs from ...`), so
// these stand in for them with the module itself; a named import of either fails the build. The lazy bundles
// get the same (net too: the PostgreSQL store's socket to the session keeper).
const WHOLE_BUILTINS = ['fs', 'path', 'net'];
const wholeBuiltins = {
  name: 'whole-builtins',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(node:)?(${WHOLE_BUILTINS.join('|')})$`) }, (args) => {
      if (args.namespace === 'harn-whole') return { path: args.path, external: true };
      // Only our sources' `import x from 'node:fs'`: a CommonJS dependency's require() (pg's of net) gets the module itself.
      if (args.kind !== 'import-statement') return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'harn-whole' };
    });
    b.onLoad({ filter: /.*/, namespace: 'harn-whole' }, (args) => ({ contents: `export default require('node:${args.path}');`, loader: 'js' }));
  },
};


await Promise.all([
  build({ ...cjs, entryPoints: { 'harn-agents': 'src/cli/main.ts' }, outdir: 'dist', plugins: [lazyExternal, lazyBuiltins, wholeBuiltins, nodeOnlyPg] }),
  build({ ...cjs, entryPoints: Object.fromEntries(ALONE.map((f) => [lazyName(f), f])), outdir: 'dist/lazy', plugins: [siblingExternal, wholeBuiltins, nodeOnlyPg] }),
  // The library entry point: one self-contained module (its lazy parts inlined, so there is one HarnError).
  build({ ...esm, entryPoints: { api: 'src/api/index.ts' }, outdir: 'dist' }),
  // The same for CommonJS callers (`require('harn-agents')`): no ESM banner, import.meta.url from __filename.
  build({
    ...common,
    format: 'cjs',
    banner: { js: "const __harnImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { ...common.define, 'import.meta.url': '__harnImportMetaUrl' },
    entryPoints: { api: 'src/api/index.ts' },
    outExtension: { '.js': '.cjs' },
    outdir: 'dist',
  }),
]);
// V8's code cache of the CLI bundle, made by running quiet reads and a write in an empty scratch workspace
// (HARN_WORKSPACE: never in a .harn/ found above it).
const scratch = mkdtempSync(path.join(os.tmpdir(), 'harn-build-'));
try {
  // Its calls' own messages (the refused PostgreSQL call's one line) are shown only if making the caches failed.
  const made = spawnSync(process.execPath, [path.resolve('scripts/code-cache.cjs')], { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HARN_WORKSPACE: scratch } });
  if (made.status !== 0) {
    process.stderr.write(made.stderr);
    process.exit(made.status ?? 1);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
// Type declarations for the library (package.json "exports" types).
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.api.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// CommonJS callers' TypeScript looks for .d.cts beside the require entry: the same declarations, as a module
// that only re-exports the ESM one's types.
writeFileSync(new URL('../dist/types/api/index.d.cts', import.meta.url), "export * from './index.js';\n");
