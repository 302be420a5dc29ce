import { describe, expect, it } from 'vitest';
import { commandsToDefine } from '../../src/cli/program.js';

const ALL = ['register', 'lock', 'status', 'completion'];

describe('commandsToDefine', () => {
  it.each([
    [['lock', 'a'], ['lock']],
    [['--json', 'status'], ['status']],
    [['-C', 'lock', 'status'], ['status']],
    [['--lock-ttl', '5s', 'register', 'x'], ['register']],
    [['lock', '--help'], ALL],
    [['help', 'lock'], ALL],
    [['lokc'], ALL],
    [[], ALL],
    [['completion', 'bash'], ALL],
    [['--', 'lock'], ALL],
  ])('%j defines %j', (argv, expected) => {
    expect(commandsToDefine(argv, ALL)).toEqual(expected);
  });
});
