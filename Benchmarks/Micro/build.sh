#!/usr/bin/env bash
# Builds every micro-benchmark of this folder with the command its README row gives, into OUT
# (default: a temporary folder, printed), and says which built; the binaries take the arguments in README.md.
#   Benchmarks/Micro/build.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")"
OUT=${1:-$(mktemp -d)}
mkdir -p "$OUT"
status=0
# Each row's command: the `gcc …` or `clang …` of its last column, up to " && ".
while read -r command; do
    name=$(echo "$command" | grep -o ' -o [A-Za-z0-9_]*' | cut -d' ' -f3)
    if eval "${command/ -o $name / -o $OUT/$name }" > "$OUT/$name.log" 2>&1; then
        echo "built $OUT/$name"
    else
        echo "FAILED $name (see $OUT/$name.log)"; status=1
    fi
done < <(grep -o '| `\(gcc\|clang\) [^`]*`' README.md | sed 's/^| `//; s/`$//; s/ && .*//')
exit $status
