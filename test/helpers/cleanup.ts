import { afterAll } from 'vitest';
import { removeTempDirs } from './cli.js';

// Every test file removes the temporary directories it made (tempDir in helpers/cli.ts).
afterAll(() => removeTempDirs());
