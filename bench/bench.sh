#!/usr/bin/env bash
# Benchmarks, one function per section.
#
#   bench/bench.sh            every section
#   bench/bench.sh gaps       `evpack gaps` on 20,000 files and 200 requirements vs `find`
#   bench/bench.sh gaps-pack  `evpack gaps` on the build tree (~20,000 files / 3 GB, 1,000 of
#                             them real PDF/Office documents of 100 KB to 5 MB) vs `find`:
#                             what it costs to look inside every matched file, as the file
#                             checks do, on top of reading names (no target yet)
#   bench/bench.sh build      `evpack build` on ~20,000 files / 3 GB vs `zip -r -0` and bagit.py
#                             (the three take turns, run by run; see `interleaved`)
#   bench/bench.sh verify     `evpack verify` (zip and folder) vs bagit.py --validate, sha256sum -c
#   bench/bench.sh build-text `build` on the text-heavy variant of the build tree (4,000
#                             documents of 2.5 GB among 16,000 small text files) vs bagit.py
#   bench/bench.sh scale      many small files (SCALE_FILES, default 20,000; the targets are
#                             for 200,000): peak memory of gaps, build, verify and report,
#                             gaps vs `find`, build vs `zip -r -0`, verify vs bagit.py, and
#                             the dashboard's size and load time in Chromium
#
# PACK_SCALE (default 1.0) scales the build/verify/gaps-pack tree (0.1 gives ~300 MB for a
# quick look); PACK_RUNS (default 7) timed runs per command in build and verify; SCALE_RUNS
# (default 3) in scale.
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
        "$HYPERFINE" --style none --warmup "${WARMUP:-3}" --runs "$RUNS" --ignore-failure \
            --export-json "$json" --command-name "$name" -- "$(printf '%q ' "$@")" >/dev/null
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
    else
        local times="$BENCH_DIR/times-$name.txt" i start end
        : >"$times"
        for ((i = 0; i < ${WARMUP:-3}; i++)); do "$@" >/dev/null 2>&1 || true; done
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

# interleaved NAME1 PREP1 CMD1 NAME2 PREP2 CMD2 ...: runs the commands in turn, RUNS rounds
# after one untimed warm-up round, each after its untimed shell command PREP, and prints
# "NAME median" per command. Taking turns, rather than all runs of one command then all of
# the next, means a burst of noise from the machine's neighbours falls on every command
# alike: the ratios compare the work, not the moment. CMD is one shell command line.
interleaved() {
    local -a names preps cmds
    while (($#)); do
        names+=("$1") preps+=("$2") cmds+=("$3")
        shift 3
    done
    local round i start end
    for i in "${!names[@]}"; do : >"$BENCH_DIR/times-${names[$i]}.txt"; done
    for ((round = 0; round <= RUNS; round++)); do
        for i in "${!names[@]}"; do
            bash -c "${preps[$i]}"
            # No command pays for the previous one's writes still on their way to the disk.
            sync
            start=$(date +%s%N)
            bash -c "${cmds[$i]}" >/dev/null 2>&1 || true
            end=$(date +%s%N)
            # Round 0 warms the page cache and is not counted.
            ((round == 0)) || echo "($end - $start) / 1000000000" | bc -l >>"$BENCH_DIR/times-${names[$i]}.txt"
        done
    done
    for i in "${!names[@]}"; do
        echo "${names[$i]} $(median "$BENCH_DIR/times-${names[$i]}.txt")"
    done
}

pack_tree() {
    local scale=${PACK_SCALE:-1.0} mix=${PACK_MIX:-documents}
    PACK_DIR="$BENCH_DIR/pack-$scale"
    [[ $mix == documents ]] || PACK_DIR="$PACK_DIR-$mix"
    if [[ ! -f "$PACK_DIR/manifest.toml" ]]; then
        say "== generating $PACK_DIR"
        rm -rf "$PACK_DIR"
        mkdir -p "$PACK_DIR"
        python3 "$ROOT/bench/gen_pack_tree.py" "$PACK_DIR" --scale "$scale" --mix "$mix" >&2
    fi
}

section_gaps_pack() {
    pack_tree
    build_release
    local ev="$PACK_DIR/evidence" m="$PACK_DIR/manifest.toml"
    local size
    size=$(du -sb "$ev" | cut -f1)
    say "== gaps-pack: $(find "$ev" -type f | wc -l) files, $((size / 1000000)) MB, $RUNS runs each"
    local t_find t_gaps rss
    t_find=$(time_median pack-find find "$ev" -type f -printf '%s %T@ %p\n')
    t_gaps=$(time_median pack-gaps "$EVPACK" gaps --manifest "$m" --evidence "$ev")
    rss=$(peak_rss_mb "$EVPACK" gaps --manifest "$m" --evidence "$ev")
    machine
    printf 'find -printf          median %8.1f ms\n' "$(echo "$t_find * 1000" | bc -l)"
    printf 'evpack gaps           median %8.1f ms\n' "$(echo "$t_gaps * 1000" | bc -l)"
    printf 'ratio gaps/find              %8.2f x\n' "$(echo "$t_gaps / $t_find" | bc -l)"
    printf 'peak RSS gaps                %8s MB\n' "$rss"
}

section_build() {
    command -v bagit.py >/dev/null || { say "build: bagit.py is not installed (pip install bagit)"; return 1; }
    pack_tree
    build_release
    local RUNS=${PACK_RUNS:-7}
    local ev="$PACK_DIR/evidence" m="$PACK_DIR/manifest.toml" out="$PACK_DIR/out"
    mkdir -p "$out"
    local size
    size=$(du -sb "$ev" | cut -f1)
    say "== build: $(find "$ev" -type f | wc -l) files, $((size / 1000000)) MB, $RUNS runs each"
    local t_ev t_zip t_bag rss results
    # bagit.py rewrites the folder it bags, so it gets a fresh hard-link copy each run,
    # made in the untimed prepare step (the copy is not part of bagit's work).
    results=$(interleaved \
        evpack-build "rm -f '$out/pack.zip' '$out/pack.zip.sha256'" \
        "'$EVPACK' build --quiet --manifest '$m' --evidence '$ev' --out '$out/pack.zip' --date 2021-01-15" \
        zip-0 "rm -f '$out/zip0.zip'" \
        "cd '$PACK_DIR' && zip -r -q -0 '$out/zip0.zip' evidence" \
        bagit "rm -rf '$out/bagcopy' && cp -al '$ev' '$out/bagcopy'" \
        "bagit.py --sha256 --processes 2 --quiet '$out/bagcopy'")
    t_ev=$(awk '$1 == "evpack-build" { print $2 }' <<<"$results")
    t_zip=$(awk '$1 == "zip-0" { print $2 }' <<<"$results")
    t_bag=$(awk '$1 == "bagit" { print $2 }' <<<"$results")
    rm -rf "$out/bagcopy" "$out/zip0.zip"
    rm -f "$out/pack.zip"
    rss=$(peak_rss_mb "$EVPACK" build --quiet --manifest "$m" --evidence "$ev" --out "$out/pack.zip" --date 2021-01-15)
    machine
    printf 'evpack build          median %8.2f s\n' "$t_ev"
    printf 'zip -r -q -0          median %8.2f s\n' "$t_zip"
    printf 'bagit.py --sha256 -p2 median %8.2f s   (writes no zip)\n' "$t_bag"
    printf 'ratio build/bagit            %8.2f x   (target: at most 0.9 x)\n' "$(echo "$t_ev / $t_bag" | bc -l)"
    printf 'ratio build/zip -0           %8.2f x   (target: at most 0.25 x)\n' "$(echo "$t_ev / $t_zip" | bc -l)"
    printf 'peak RSS build               %8s MB  (target: under 48 MB)\n' "$rss"
}

section_verify() {
    pack_tree
    build_release
    local RUNS=${PACK_RUNS:-7} WARMUP=1
    local ev="$PACK_DIR/evidence" m="$PACK_DIR/manifest.toml" out="$PACK_DIR/out"
    mkdir -p "$out"
    if [[ ! -f "$out/pack.zip" ]]; then
        "$EVPACK" build --quiet --manifest "$m" --evidence "$ev" --out "$out/pack.zip" --date 2021-01-15 >/dev/null
    fi
    if [[ ! -d "$out/unzipped/pack" ]]; then
        rm -rf "$out/unzipped"
        mkdir -p "$out/unzipped"
        (cd "$out/unzipped" && unzip -q ../pack.zip)
    fi
    local bag="$out/unzipped/pack"
    say "== verify: $(du -sh "$out/pack.zip" | cut -f1) pack, $RUNS runs each"
    local t_zip t_dir t_bag t_sum rss
    t_zip=$(time_median verify-zip "$EVPACK" verify --quiet "$out/pack.zip")
    t_dir=$(time_median verify-dir "$EVPACK" verify --quiet "$bag")
    t_bag=$(time_median bagit-validate bagit.py --validate --processes 2 --quiet "$bag")
    t_sum=$(time_median sha256sum-c bash -c "cd '$bag' && sha256sum -c --quiet manifest-sha256.txt")
    rss=$(peak_rss_mb "$EVPACK" verify --quiet "$out/pack.zip")
    machine
    printf 'evpack verify pack.zip     median %8.2f s\n' "$t_zip"
    printf 'evpack verify folder       median %8.2f s\n' "$t_dir"
    printf 'bagit.py --validate -p2    median %8.2f s\n' "$t_bag"
    printf 'sha256sum -c               median %8.2f s\n' "$t_sum"
    printf 'ratio verify zip/bagit          %8.2f x   (target: at most 0.6 x)\n' "$(echo "$t_zip / $t_bag" | bc -l)"
    printf 'ratio verify folder/bagit       %8.2f x   (target: at most 0.6 x)\n' "$(echo "$t_dir / $t_bag" | bc -l)"
    printf 'peak RSS verify zip             %8s MB  (target: under 64 MB)\n' "$rss"
}

# scale: many small files (see the header). Each comparison takes turns with its tool.
section_scale() {
    command -v bagit.py >/dev/null || { say "scale: bagit.py is not installed (pip install bagit)"; return 1; }
    local files=${SCALE_FILES:-20000}
    local dir="$BENCH_DIR/scale-$files"
    if [[ ! -f "$dir/manifest.toml" ]]; then
        say "== generating $dir"
        rm -rf "$dir"
        mkdir -p "$dir"
        python3 "$ROOT/bench/gen_scale_tree.py" "$dir" --files "$files" >&2
    fi
    build_release
    local RUNS=${SCALE_RUNS:-3}
    local ev="$dir/evidence" m="$dir/manifest.toml" out="$dir/out"
    mkdir -p "$out"
    say "== scale: $files files, $(du -sh --apparent-size "$ev" | cut -f1), $RUNS runs each"
    local gaps="'$EVPACK' gaps --manifest '$m' --evidence '$ev' --format json"
    local build="'$EVPACK' build --quiet --manifest '$m' --evidence '$ev' --out '$out/pack.zip' --date 2021-01-15"
    local report="'$EVPACK' report --manifest '$m' --evidence '$ev' --out '$out/report.html'"
    local r1 r2 r3
    r1=$(interleaved scale-find "" "find '$ev' -type f -printf '%s %T@ %p\n'" scale-gaps "" "$gaps")
    r2=$(interleaved scale-build "rm -f '$out/pack.zip' '$out/pack.zip.sha256'" "$build" \
        scale-zip0 "rm -f '$out/zip0.zip'" "cd '$dir' && zip -r -q -0 '$out/zip0.zip' evidence")
    rm -f "$out/zip0.zip"
    bash -c "$build" >/dev/null
    rm -rf "$out/unzipped" && mkdir -p "$out/unzipped" && (cd "$out/unzipped" && unzip -q ../pack.zip)
    r3=$(interleaved scale-verify "" "'$EVPACK' verify --quiet '$out/pack.zip'" \
        scale-bagit-validate "" "bagit.py --validate --processes 2 --quiet '$out/unzipped/pack'")
    local rss_gaps rss_build rss_verify rss_report
    rss_gaps=$(peak_rss_mb bash -c "exec $gaps")
    rss_build=$(peak_rss_mb bash -c "rm -f '$out/pack.zip'; exec $build")
    rss_verify=$(peak_rss_mb "$EVPACK" verify --quiet "$out/pack.zip")
    rss_report=$(peak_rss_mb bash -c "exec $report")
    local page_mb index_mb load="n/a"
    page_mb=$(echo "$(stat -c %s "$out/report.html") / 1000000" | bc -l)
    index_mb=$(echo "$(unzip -p "$out/pack.zip" pack/index.html | wc -c) / 1000000" | bc -l)
    # Navigation to the load event in headless Chromium, browser start-up excluded
    # (tests/browser: `npm ci` there installs what it needs; .ci/run does).
    if [[ -d "$ROOT/tests/browser/node_modules" ]] && command -v chromium >/dev/null; then
        load=$(node "$ROOT/tests/browser/loadtime.mjs" "$out/report.html" 2>/dev/null || echo n/a)
    fi
    local t_find t_gaps t_build t_zip t_verify t_bag
    t_gaps=$(awk '$1 == "scale-gaps" { print $2 }' <<<"$r1")
    t_find=$(awk '$1 == "scale-find" { print $2 }' <<<"$r1")
    t_build=$(awk '$1 == "scale-build" { print $2 }' <<<"$r2")
    t_zip=$(awk '$1 == "scale-zip0" { print $2 }' <<<"$r2")
    t_verify=$(awk '$1 == "scale-verify" { print $2 }' <<<"$r3")
    t_bag=$(awk '$1 == "scale-bagit-validate" { print $2 }' <<<"$r3")
    machine
    printf 'files                         %8d\n' "$files"
    printf 'find -printf          median %8.2f s\n' "$t_find"
    printf 'evpack gaps --json    median %8.2f s   ratio %5.2f x (target: at most 3 x)\n' "$t_gaps" "$(echo "$t_gaps / $t_find" | bc -l)"
    printf 'zip -r -q -0          median %8.2f s\n' "$t_zip"
    printf 'evpack build          median %8.2f s   ratio %5.2f x (target: at most 0.6 x)\n' "$t_build" "$(echo "$t_build / $t_zip" | bc -l)"
    printf 'bagit.py --validate -p2 median %6.2f s\n' "$t_bag"
    printf 'evpack verify         median %8.2f s   ratio %5.2f x (target: at most 0.2 x)\n' "$t_verify" "$(echo "$t_verify / $t_bag" | bc -l)"
    printf 'peak RSS gaps/build/verify/report  %s / %s / %s / %s MB (target: each under 128 MB)\n' \
        "$rss_gaps" "$rss_build" "$rss_verify" "$rss_report"
    printf 'report.html %.1f MB, index.html %.1f MB (target: under 8 MB); report opened in Chromium in %s s (target: under 5 s)\n' \
        "$page_mb" "$index_mb" "$load"
}

main() {
    local sections=("$@")
    ((${#sections[@]})) || sections=(gaps gaps-pack build verify)
    local s status=0
    for s in "${sections[@]}"; do
        case $s in
        gaps) section_gaps || status=1 ;;
        gaps-pack) section_gaps_pack || status=1 ;;
        build) section_build || status=1 ;;
        verify) section_verify || status=1 ;;
        build-text) PACK_MIX=text section_build || status=1 ;;
        scale) section_scale || status=1 ;;
        *)
            say "unknown section: $s (known: gaps, gaps-pack, build, verify, build-text, scale)"
            exit 2
            ;;
        esac
    done
    return $status
}

main "$@"
