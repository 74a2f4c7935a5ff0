#!/usr/bin/env bash
# Installs, once, the commit-msg hook that enforces conventional commit messages.
set -euo pipefail
top=$(git rev-parse --show-toplevel)
hooks=$(git rev-parse --git-path hooks)
mkdir -p "$hooks"
target="$hooks/commit-msg"
if [ -e "$target" ] && cmp -s "$top/scripts/commit-msg" "$target"; then
    echo "commit-msg hook already installed at $target"
    exit 0
fi
cp "$top/scripts/commit-msg" "$target"
chmod +x "$target"
echo "installed the commit-msg hook at $target (conventional commits: feat:, fix:, docs:, ...)"
