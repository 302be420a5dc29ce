/** What completion needs to know about the CLI: each command and its long options. */
export interface CompletionSpec {
  readonly globalOptions: readonly string[];
  readonly commands: ReadonlyArray<{ readonly name: string; readonly options: readonly string[]; readonly words?: readonly string[] }>;
}

/** A bash completion script: commands, then each command's options, words, or file names. */
export function bashCompletion(spec: CompletionSpec): string {
  const cases = spec.commands
    .map((c) => `    ${c.name}) opts=${JSON.stringify(c.options.join(' '))}; words=${JSON.stringify((c.words ?? []).join(' '))} ;;`)
    .join('\n');
  return `# harn-agents bash completion. Load it with:  source <(harn-agents completion bash)
_harn_agents() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local commands=${JSON.stringify(spec.commands.map((c) => c.name).join(' '))}
  local global=${JSON.stringify(spec.globalOptions.join(' '))}
  local cmd="" i opts="" words=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case " $commands " in *" \${COMP_WORDS[i]} "*) cmd=\${COMP_WORDS[i]}; break ;; esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$commands $global" -- "$cur"))
    return
  fi
  case $cmd in
${cases}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))
  elif [[ -n $words ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _harn_agents harn-agents
`;
}

/** zsh runs the bash script through its bash-completion emulation. */
export function zshCompletion(spec: CompletionSpec): string {
  return `# harn-agents zsh completion. Load it with:  source <(harn-agents completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(spec).split('\n').slice(1).join('\n')}`;
}
