#!/usr/bin/env bash
# make poetry-check: the README's two poetry paths, taken as a new user takes them, in temporary
# directories (nothing of this checkout or of ~/.cache/pypoetry is touched):
#   clone: a copy of this work tree; `poetry install -E <extra>` on the extra's Python (from the
#          committed poetry.lock), then the plugin as Airflow lists it (`airflow plugins`)
#   user:  a new poetry project beside a pinned Airflow (the af2 and af3 rows of compat/matrix.toml):
#          `poetry add "apache-airflow==<pin>"`, `poetry add "<wheel of this tree>[<extra>]"`,
#          then `airflow plugins`
# Prints the seconds of each step and ends with a summary; exits 1 if any step failed.
#
#   POETRY=...               the poetry to run (the Makefile installs one into .tools/poetry)
#   UV=...                   uv, to build the wheel
#   POETRY_FRESH_CACHE=1     an empty poetry cache, as on a fresh machine (else .tools/poetry-cache,
#                            kept between runs: the warm figure)
#   POETRY_CLONE="airflow2:3.11 ..."  the clone's extra:python pairs
#   POETRY_USER="af2 af3"    the matrix rows whose Airflow the user's project pins
#   POETRY_KEEP=1            keep the temporary directory (its path is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
POETRY=$(realpath "${POETRY:?set POETRY to a poetry executable (make poetry-check installs one)}")
UV=$(realpath "${UV:?set UV to a uv executable}")
POETRY_CLONE=${POETRY_CLONE-airflow2:3.12 airflow3:3.12}
POETRY_USER=${POETRY_USER-af2 af3}

WORK=$(mktemp -d /tmp/alvin-poetry-check.XXXXXX)
if [ "${POETRY_KEEP:-}" = 1 ]; then echo "==> keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
if [ "${POETRY_FRESH_CACHE:-}" = 1 ]; then
    export POETRY_CACHE_DIR=$WORK/poetry-cache
else
    export POETRY_CACHE_DIR=$REPO/.tools/poetry-cache
fi
# no setting of this machine's poetry, virtualenvs inside each project (removed with $WORK)
export POETRY_CONFIG_DIR=$WORK/poetry-config POETRY_VIRTUALENVS_IN_PROJECT=true POETRY_NO_INTERACTION=1
unset VIRTUAL_ENV
echo "==> $("$POETRY" --version), cache $POETRY_CACHE_DIR$([ "${POETRY_FRESH_CACHE:-}" = 1 ] && echo ' (fresh)')"

SUMMARY=()
ALL=()
FAILED=0
# step NAME COMMAND...: runs the command, prints and records its seconds and outcome
step() {
    local name=$1 start end status=ok
    shift
    echo "==> $name: $*"
    start=$EPOCHREALTIME
    "$@" || status=FAILED
    end=$EPOCHREALTIME
    SUMMARY+=("$(printf '%-58s %7.1f s  %s' "$name" "$(awk "BEGIN { print $end - $start }")" "$status")")
    [ "$status" = ok ] || FAILED=1
    [ "$status" = ok ]
}

python_for() {  # the interpreter of a Python version (pyenv's, which the Makefile puts on PATH)
    command -v "python$1" || { echo "no python$1 on PATH" >&2; return 1; }
}

# lists_plugin HOME: `airflow plugins` in the project (Airflow 1.10 has no such command: its
# plugins manager) shows our plugin
lists_plugin() {
    local home=$1 out
    mkdir -p "$home"
    if AIRFLOW_HOME=$home "$POETRY" run python -c 'import airflow; print(airflow.__version__)' | grep -q '^1\.'; then
        out=$(AIRFLOW_HOME=$home "$POETRY" run python -c \
            'from airflow import plugins_manager as m; print([p.name for p in m.plugins])')
    else
        out=$(AIRFLOW_HOME=$home "$POETRY" run airflow plugins -o plain)
    fi
    echo "$out" | grep alvin_integration
}

collect_summary() {  # dir: the steps its project's subshell recorded, or that it failed before them
    local dir=$1 line
    if [ -f "$dir/summary" ]; then
        while IFS= read -r line; do SUMMARY+=("$line"); done <"$dir/summary"
    else
        SUMMARY+=("$(printf '%-58s %9s  %s' "${dir##*/}: preparing the project" - FAILED)")
    fi
}

clone_path() {  # extra python
    local extra=$1 python=$2 dir=$WORK/clone-$1 interpreter
    mkdir -p "$dir"
    # the work tree as a fresh clone has it: tracked and new files, nothing git ignores
    git -C "$REPO" ls-files -z -co --exclude-standard | (cd "$REPO" && xargs -0 tar cf - 2>/dev/null) | tar xf - -C "$dir"
    (
        # (errexit does not hold in a subshell whose status is tested: each preparation says so)
        interpreter=$(python_for "$python") || exit 1
        # poetry also runs the `python` of PATH: make it this one
        export PATH=$(dirname "$interpreter"):$PATH
        cd "$dir" && "$POETRY" env use "$interpreter" >/dev/null || exit 1
        step "clone: poetry install -E $extra (Python $python)" "$POETRY" install -q -E "$extra" &&
            step "clone: $extra: airflow plugins lists alvin_integration" lists_plugin "$dir/airflow-home"
        printf '%s\n' "${SUMMARY[@]}" >"$dir/summary"
        exit "$FAILED"
    ) || FAILED=1
    collect_summary "$dir"
}

user_path() {  # matrix row
    local row=$1 dir=$WORK/user-$1 airflow python extra next interpreter
    read -r airflow python < <(python_for 3.11 >/dev/null && "$(python_for 3.11)" -c \
        "import tomllib,sys; r=[r for r in tomllib.load(open('compat/matrix.toml','rb'))['row'] if r['env']==sys.argv[1]][0]; print(r['airflow'], r['python'])" "$row")
    extra=airflow${airflow%%.*}
    next=3.$((${python#3.} + 1))
    mkdir -p "$dir"
    (
        interpreter=$(python_for "$python") || exit 1
        export PATH=$(dirname "$interpreter"):$PATH
        cd "$dir" && "$POETRY" init -q --name alvin-poetry-user --author "poetry-check <check@example.invalid>" \
            --python ">=$python,<$next" --no-interaction && "$POETRY" env use "$interpreter" >/dev/null || exit 1
        step "user: poetry add apache-airflow==$airflow (Python $python)" "$POETRY" add -q "apache-airflow==$airflow" &&
            step "user: poetry add alvin-integration[$extra] (the wheel)" "$POETRY" add -q "$WHEEL[$extra]" &&
            step "user: $extra: airflow plugins lists alvin_integration" lists_plugin "$dir/airflow-home"
        printf '%s\n' "${SUMMARY[@]}" >"$dir/summary"
        exit "$FAILED"
    ) || FAILED=1
    collect_summary "$dir"
}

for pair in $POETRY_CLONE; do
    SUMMARY=()
    clone_path "${pair%%:*}" "${pair##*:}" || true
    ALL+=("${SUMMARY[@]}")
done
echo "==> building the wheel of this tree"
"$UV" build -q --wheel -o "$WORK/dist" "$REPO"
WHEEL=$(echo "$WORK"/dist/alvin_integration-*.whl)
for row in $POETRY_USER; do
    SUMMARY=()
    user_path "$row" || true
    ALL+=("${SUMMARY[@]}")
done

echo
echo "==> poetry-check ($("$POETRY" --version | sed 's/.*version //; s/)//'), $(date -u +%FT%TZ))"
printf '%s\n' "${ALL[@]}"
exit "$FAILED"
