#!/usr/bin/env node
// The CLI is bundled into dist/ by `npm run build` (run by `npm ci` through `prepare`). This file and the
// bundle are CommonJS (bin/package.json): an ES module entry would cost every call Node's ESM loader.
//
// The bundle is compiled with the V8 code cache the build made beside it (dist/harn-agents.cjs.v8cache), which
// spares each call most of compiling it (docs/performance.md). V8 rejects a cache made by another Node
// version or under other V8 flags, or for other source text; the bundle then compiles as it would without one.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');

const BUNDLE = path.join(__dirname, '..', 'dist', 'harn-agents.cjs');
const CACHE = `${BUNDLE}.v8cache`;

/** The bundle as a CommonJS module function, compiled with the code cache when there is one. */
function compile() {
  const source = fs.readFileSync(BUNDLE, 'utf8');
  let cachedData;
  try {
    cachedData = fs.readFileSync(CACHE);
  } catch {
    cachedData = undefined;
  }
  return new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BUNDLE, cachedData });
}

/** Run the compiled bundle as Node runs a CommonJS module: it reads process.argv and answers. */
function run(script) {
  const bundle = { exports: {} };
  script.runInThisContext()(bundle.exports, createRequire(BUNDLE), bundle, BUNDLE, path.dirname(BUNDLE));
}

// scripts/build.mjs loads this file to make the cache (scripts/code-cache.cjs).
if (require.main === module) run(compile());
else module.exports = { compile, run, CACHE };
