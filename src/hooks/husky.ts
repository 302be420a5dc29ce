import fs from 'node:fs';
import path from 'node:path';
import type { GitLayout } from './git.js';

/**
 * husky (v9): core.hooksPath is `.husky/_`, whose generated stubs run `.husky/<hook>` with `sh -e`. Our
 * lines go into `.husky/<hook>` (see script.ts); `npx husky` regenerates only `.husky/_`.
 */

/** The folder of husky's user scripts (`.husky`) when husky v9 runs this repository's hooks, else null. */
export function huskyScripts(layout: GitLayout): string | null {
  const dir = layout.hooksDir;
  if (path.basename(dir) !== '_') return null;
  const husky = fs.existsSync(path.join(dir, 'h')) || /(^|\/)\.husky\/_\/?$/.test(layout.hooksPath ?? '');
  return husky ? path.dirname(dir) : null;
}

/** husky's generated stub (`. "$(dirname "$0")/h"`), or its v8 helper. */
export const isHuskyHook = (text: string): boolean => /husky|\/h"/.test(text);
