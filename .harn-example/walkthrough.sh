#!/usr/bin/env bash
# A two-minute tour of harn-agents on a throwaway copy of this example workspace.
# Run from the repository after `npm ci`:  bash .harn-example/walkthrough.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
ws=$(mktemp -d "${TMPDIR:-/tmp}/harn-walkthrough-XXXXXX")
cp -R "$repo/.harn-example/." "$ws/"
cd "$ws"
harn-agents() { node "$repo/bin/harn-agents.js" "$@"; }
# Bold only on a terminal, and never with NO_COLOR: piped or logged output stays plain text.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$(printf '\033[1m'); plain=$(printf '\033[0m'); else bold=''; plain=''; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

echo "workspace: $ws (a copy of .harn-example/)"

say 'harn-agents reap            # the example registry has an agent silent since 2023'
harn-agents reap

say 'EDITOR_ID=$(harn-agents register editor)'
EDITOR_ID=$(harn-agents register editor); echo "$EDITOR_ID"
say 'CI_ID=$(harn-agents register ci)'
CI_ID=$(harn-agents register ci); echo "$CI_ID"

say "harn-agents lock src/api.ts --agent $EDITOR_ID --ttl 5m"
harn-agents lock src/api.ts --agent "$EDITOR_ID" --ttl 5m

say "harn-agents lock src/api.ts src/db.ts --agent $CI_ID     # refused: all or nothing, exit 1"
harn-agents lock src/api.ts src/db.ts --agent "$CI_ID" 2>&1 || echo "(exit $?)"

say 'harn-agents holder src/api.ts src/db.ts'
harn-agents holder src/api.ts src/db.ts || true

say "harn-agents note-edit $EDITOR_ID"
harn-agents note-edit "$EDITOR_ID"

say 'harn-agents status --table    # the table even when this tour is piped; a pipe gets tab-separated rows'
harn-agents status --table

say "harn-agents release src/api.ts --agent $EDITOR_ID && harn-agents lock src/api.ts --agent $CI_ID"
harn-agents release src/api.ts --agent "$EDITOR_ID"
harn-agents lock src/api.ts --agent "$CI_ID"

say 'harn-agents --json holder src/api.ts'
harn-agents --json holder src/api.ts

# Two Claude Code sessions, as their hooks call harn-agents (hook install --claude-code installs them): the
# first edit of a file claims it for the session until it is committed; the other session is told to wait.
payload() { printf '{"session_id":"%s","transcript_path":"/tmp/t.jsonl","cwd":"%s","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"file_path":"%s/src/new.ts","content":"x"}}' "$1" "$ws" "$ws"; }
A=7f3c9a2e-5b1d-4c2d-9e5b-0a1b2c3d4e5f B=b84d0c11-93aa-4f0e-8c11-6d2e7f809a1b
say "harn-agents agent-hook claude-code <<<\"\$(payload \$A)\"   # session A's PreToolUse of Write: claimed, nothing printed"
harn-agents agent-hook claude-code <<<"$(payload $A)"
say "harn-agents agent-hook claude-code <<<\"\$(payload \$B)\"   # session B is refused, and told what to do instead"
harn-agents agent-hook claude-code <<<"$(payload $B)"

say 'cat .harn/agents.json       # the seed layout, shared with Rust embedders'
cat .harn/agents.json

rm -rf "$ws"
printf '\ndone; the temporary workspace was removed.\n'
