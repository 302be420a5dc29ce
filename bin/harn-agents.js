#!/usr/bin/env node
// The CLI is bundled into dist/ by `npm run build` (run by `npm ci` through `prepare`). This file and the
// bundle are CommonJS (bin/package.json): an ES module entry would cost every call Node's ESM loader.
//
// The bundle is compiled with the V8 code cache the build made beside it (dist/harn-agents.cjs.v8cache), which
// spares each call most of compiling it (docs/performance.md); so are the parts it loads on demand
// (dist/lazy/*.cjs, such as the PostgreSQL client), each with its own cache. V8 rejects a cache made by
// another Node version or under other V8 flags, or for other source text; the script then compiles as it
// would without one.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');

const BUNDLE = path.join(__dirname, '..', 'dist', 'harn-agents.cjs');
const CACHE = `${BUNDLE}.v8cache`;

/** A CommonJS file as a module function, compiled with the code cache beside it when there is one. */
function compileFile(file) {
  const source = fs.readFileSync(file, 'utf8');
  let cachedData;
  try {
    cachedData = fs.readFileSync(`${file}.v8cache`);
  } catch {
    cachedData = undefined;
  }
  return new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
}

/** The bundle, compiled. */
const compile = () => compileFile(BUNDLE);

/** The parts loaded on demand, compiled once each: file -> its script and module. */
const lazy = new Map();

/** Load a part of the bundle (dist/lazy/<name>.cjs) as require() would, but with its code cache. */
function loadLazy(file) {
  const loaded = lazy.get(file);
  if (loaded) return loaded.module.exports;
  const entry = { script: compileFile(file), module: { exports: {} } };
  lazy.set(file, entry);
  try {
    entry.script.runInThisContext()(entry.module.exports, siblingRequire(file), entry.module, file, path.dirname(file));
  } catch (error) {
    lazy.delete(file);
    throw error;
  }
  return entry.module.exports;
}

/** A lazy part's require(): the parts beside it (./<name>.cjs, such as the pg client) through loadLazy too. */
function siblingRequire(file) {
  const base = createRequire(file);
  const dir = path.dirname(file);
  const require = (id) => (typeof id === 'string' && /^\.\/[\w-]+\.cjs$/.test(id) ? loadLazy(path.join(dir, id)) : base(id));
  return Object.assign(require, { resolve: base.resolve, cache: base.cache, main: base.main });
}

/** The bundle's require(): its lazy parts through loadLazy, everything else as usual. */
function bundleRequire() {
  const base = createRequire(BUNDLE);
  const dir = path.dirname(BUNDLE);
  const require = (id) => (typeof id === 'string' && id.startsWith('./lazy/') ? loadLazy(path.join(dir, id)) : base(id));
  return Object.assign(require, { resolve: base.resolve, cache: base.cache, main: base.main });
}

/** Run the compiled bundle as Node runs a CommonJS module: it reads process.argv and answers. */
function run(script) {
  const bundle = { exports: {} };
  script.runInThisContext()(bundle.exports, bundleRequire(), bundle, BUNDLE, path.dirname(BUNDLE));
}

// scripts/build.mjs loads this file to make the caches (scripts/code-cache.cjs).
if (require.main === module) run(compile());
else module.exports = { compile, run, CACHE, lazy, loadLazy };
