#!/usr/bin/env bash
# Benchmarks, one function per section.
#
#   bench/bench.sh            every section
#   bench/bench.sh gaps       `evpack gaps` on 20,000 files and 200 requirements vs `find`
#
# Data goes to $BENCH_DIR (default: bench-data/ at the repo root, gitignored) and is made
# once per set of parameters. RUNS (default 10) timed runs per command, after warm-up runs,
# so both commands see a warm page cache: the comparison is of the work each does, not of
# the disk. Uses hyperfine when installed (HYPERFINE=none forces the fallback), else a loop
# that takes medians; peak memory comes from GNU time (/usr/bin/time -v) when installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/bench-data}
RUNS=${RUNS:-10}
HYPERFINE=${HYPERFINE:-hyperfine}
EVPACK=$ROOT/target/release/evpack

say() { printf '%s\n' "$*" >&2; }

build_release() {
    say "== building the release binary"
    (cd "$ROOT" && cargo build --release --locked --quiet)
}

machine() {
    echo "machine: $(nproc) cores, $(uname -sm), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
}

# median SECONDS_FILE: the median of one number per line.
median() {
    sort -g "$1" | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# time_median NAME CMD...: prints the median wall time in seconds of CMD (output discarded,
# exit code ignored: `gaps` exits 1 when it finds gaps, which is its job).
time_median() {
    local name=$1
    shift
    if command -v "$HYPERFINE" >/dev/null; then
        local json="$BENCH_DIR/hyperfine-$name.json"
        "$HYPERFINE" --style none --warmup 3 --runs "$RUNS" --ignore-failure \
            --export-json "$json" --command-name "$name" -- "$(printf '%q ' "$@")" >/dev/null
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
    else
        local times="$BENCH_DIR/times-$name.txt" i start end
        : >"$times"
        for i in 1 2 3; do "$@" >/dev/null 2>&1 || true; done
        for ((i = 0; i < RUNS; i++)); do
            start=$(date +%s%N)
            "$@" >/dev/null 2>&1 || true
            end=$(date +%s%N)
            echo "($end - $start) / 1000000000" | bc -l >>"$times"
        done
        median "$times"
    fi
}

# peak_rss_mb CMD...: the peak resident set size of CMD in MB, or "n/a".
peak_rss_mb() {
    if [[ -x /usr/bin/time ]]; then
        local log="$BENCH_DIR/time-v.txt"
        /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
        awk -F: '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$log"
    else
        echo "n/a"
    fi
}

section_gaps() {
    local files=${GAPS_FILES:-20000} reqs=${GAPS_REQUIREMENTS:-200}
    local dir="$BENCH_DIR/gaps-$files-$reqs"
    if [[ ! -f "$dir/manifest.toml" ]]; then
        say "== generating $dir"
        rm -rf "$dir"
        mkdir -p "$dir"
        python3 "$ROOT/bench/gen_gaps_tree.py" "$dir" --files "$files" --requirements "$reqs" >&2
    fi
    build_release
    local ev="$dir/evidence" m="$dir/manifest.toml"
    local on_disk
    on_disk=$(find "$ev" -type f | wc -l)
    say "== gaps: $on_disk files in $(find "$ev" -type d | wc -l) folders, $reqs requirements, $RUNS runs each"

    local t_find t_gaps t_json rss ratio
    t_find=$(time_median find find "$ev" -type f -printf '%s %T@ %p\n')
    t_gaps=$(time_median gaps "$EVPACK" gaps --manifest "$m" --evidence "$ev")
    t_json=$(time_median gaps-json "$EVPACK" gaps --manifest "$m" --evidence "$ev" --format json)
    rss=$(peak_rss_mb "$EVPACK" gaps --manifest "$m" --evidence "$ev" --format json)
    ratio=$(echo "$t_gaps / $t_find" | bc -l)

    machine
    printf 'find -printf          median %8.1f ms\n' "$(echo "$t_find * 1000" | bc -l)"
    printf 'evpack gaps           median %8.1f ms\n' "$(echo "$t_gaps * 1000" | bc -l)"
    printf 'evpack gaps --json    median %8.1f ms\n' "$(echo "$t_json * 1000" | bc -l)"
    printf 'ratio gaps/find              %8.2f x   (target: at most 4 x)\n' "$ratio"
    printf 'peak RSS gaps --json         %8s MB  (target: under 50 MB)\n' "$rss"
    local ok=1
    if (($(echo "$ratio > 4" | bc -l))); then
        say "gaps: SLOWER than the target"
        ok=0
    fi
    if [[ $rss != n/a ]] && (($(echo "$rss >= 50" | bc -l))); then
        say "gaps: peak memory ABOVE the target"
        ok=0
    fi
    ((ok)) || return 1
}

main() {
    local sections=("$@")
    ((${#sections[@]})) || sections=(gaps)
    local s status=0
    for s in "${sections[@]}"; do
        case $s in
        gaps) section_gaps || status=1 ;;
        *)
            say "unknown section: $s (known: gaps)"
            exit 2
            ;;
        esac
    done
    return $status
}

main "$@"
