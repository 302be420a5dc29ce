// Bundles the CLI into dist/: one ESM file with everything a quiet read-only call needs, so start-up reads
// and compiles one module; and, under dist/lazy/, self-contained bundles that only some calls load (the
// state lock and atomic writer for writes, the table and colours for `status`). The type check is
// `npm run typecheck` (tsc --noEmit).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

/** Modules the main bundle loads with `import()` on demand; each becomes dist/lazy/<name>.js. */
const LAZY = ['src/store/state-lock.ts', 'src/store/atomic-write.ts', 'src/render/status-table.ts', 'src/mcp/server.ts', 'src/store/pg-store.ts'];
const lazyName = (file) => path.basename(file, '.ts');

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: process.env.HARN_BUILD_NOMINIFY ? false : true,
  define: { __HARN_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require() for Node built-ins and read __filename.
  banner: {
    js: [
      "import { createRequire as __harnCreateRequire } from 'node:module';",
      "import { fileURLToPath as __harnFileURLToPath } from 'node:url';",
      'const require = __harnCreateRequire(import.meta.url);',
      'const __filename = __harnFileURLToPath(import.meta.url);',
    ].join(' '),
  },
  // pg loads the optional native binding only when asked to; it is not installed.
  external: ['pg-native'],
  logLevel: 'warning',
};

// Keep the lazy modules out of the main bundle: their dynamic imports point at dist/lazy/ instead.
const lazyExternal = {
  name: 'lazy-external',
  setup(b) {
    const names = new Set(LAZY.map(lazyName));
    b.onResolve({ filter: /\.js$/ }, (args) => {
      const name = path.basename(args.path, '.js');
      if (args.kind !== 'dynamic-import' || !names.has(name)) return undefined;
      return { path: `./lazy/${name}.js`, external: true };
    });
  },
};

// commander requires node:child_process (which loads net, dgram, ...) only for executable subcommands,
// which this CLI does not use: hand it a proxy that loads the real module on first use.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('node_modules/commander/') ? { path: 'lazy-child-process', namespace: 'harn-lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'harn-lazy' }, () => ({
      contents:
        "let real; const load = () => (real ??= require('node:child_process'));\n" +
        'module.exports = new Proxy({}, { get: (_t, key) => load()[key], has: (_t, key) => key in load() });\n',
      loader: 'js',
    }));
  },
};

await Promise.all([
  build({ ...common, entryPoints: { 'harn-agents': 'src/cli/main.ts' }, outdir: 'dist', plugins: [lazyExternal, lazyChildProcess] }),
  build({ ...common, entryPoints: Object.fromEntries(LAZY.map((f) => [lazyName(f), f])), outdir: 'dist/lazy' }),
  // The library entry point: one self-contained module (its lazy parts inlined, so there is one HarnError).
  build({ ...common, entryPoints: { api: 'src/api/index.ts' }, outdir: 'dist' }),
]);
// Type declarations for the library (package.json "exports" types).
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.api.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
