// Bundles the CLI into dist/ (one ESM entry plus lazily loaded chunks), so start-up loads one file
// instead of resolving every dependency's modules. The type check is `npm run typecheck` (tsc --noEmit).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { 'harn-agents': 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
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
  logLevel: 'warning',
});
