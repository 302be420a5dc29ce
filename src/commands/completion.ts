import { usageError } from '../core/errors.js';
import { bashCompletion, zshCompletion } from '../render/completion.js';
import { defineCommand } from './command.js';

export interface CompletionResult {
  readonly shell: 'bash' | 'zsh';
  readonly script: string;
}

/** `completion bash|zsh`: the script is built from the declarations of every command (src/commands/index.ts). */
export const command = defineCommand({
  name: 'completion',
  run: async (_ctx, options: CompletionResult) => options,
  render: (r) => ({ stdout: r.script, stderr: '' }),
  cli: {
    description: 'print a shell completion script (bash or zsh)',
    arguments: [{ name: '<shell>', help: 'bash or zsh', words: ['bash', 'zsh'] }],
    examples: ['source <(harn-agents completion bash)   # in ~/.bashrc', 'source <(harn-agents completion zsh)    # in ~/.zshrc'],
    input: ({ args, commands, globalOptionNames }): CompletionResult => {
      const shell = args[0] as string;
      if (shell !== 'bash' && shell !== 'zsh') throw usageError(`completion: unknown shell '${shell}' (use bash or zsh)`);
      const spec = { globalOptions: globalOptionNames, commands: commands() };
      return { shell, script: shell === 'bash' ? bashCompletion(spec) : zshCompletion(spec) };
    },
  },
});
