#!/usr/bin/env bash
# Installs, once, the repository's git hooks: commit-msg (conventional commit messages) and
# pre-commit (ruff on the staged Python files).
set -euo pipefail
top=$(git rev-parse --show-toplevel)
hooks=$(git rev-parse --git-path hooks)
mkdir -p "$hooks"
for hook in commit-msg pre-commit; do
    target="$hooks/$hook"
    if [ -e "$target" ] && cmp -s "$top/scripts/$hook" "$target"; then
        echo "$hook hook already installed at $target"
        continue
    fi
    cp "$top/scripts/$hook" "$target"
    chmod +x "$target"
    echo "installed the $hook hook at $target"
done
