#!/usr/bin/env bash
# The Windows job: builds evpack.exe (x86_64-pc-windows-gnu, linked with MinGW), runs the
# library's unit tests under Wine (the platform seams among them), then every command on
# the shipped sample under Wine, against the Linux build: the same output (but for `\` in
# paths), the same exit codes, and a byte-identical pack that verifies on both.
#
# In CI (CI set) a missing MinGW, Wine or Rust target fails the job; elsewhere the job is
# skipped with a message, so `ci/windows.sh` is safe to run on any Linux machine. WINE
# names the wine64 binary (default: Debian's /usr/lib/wine/wine64).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target=x86_64-pc-windows-gnu
wine=${WINE:-/usr/lib/wine/wine64}
missing=()
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=("gcc-mingw-w64-x86-64 (Debian package)")
[ -x "$wine" ] || missing+=("wine64 (Debian package)")
rustup target list --installed 2>/dev/null | grep -qx "$target" \
    || missing+=("the Rust target (rustup target add $target)")
if [ "${#missing[@]}" -gt 0 ]; then
    if [ -n "${CI:-}" ]; then
        printf 'FAIL: the Windows job needs: %s\n' "${missing[@]}" >&2
        exit 1
    fi
    printf 'SKIPPED: the Windows job needs: %s\n' "${missing[@]}"
    exit 0
fi

out=$(realpath "${CARGO_TARGET_DIR:-target}")
export WINEPREFIX="$out/wine/prefix" WINEARCH=win64 WINEDEBUG=-all
# Wine's server outlives the programs it ran; stop this prefix's own when the job ends.
trap '/usr/lib/wine/wineserver -k 2>/dev/null || true' EXIT
ci/wine/prefix.sh

echo "== Windows: lints"
cargo clippy --locked --target "$target" -- -D warnings

echo "== Windows: unit tests under Wine"
# /dev/full is a Linux device (Wine maps the path through, with its own error text).
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine" \
    cargo test --locked --target "$target" --lib -- \
    --skip a_full_disk_under_a_tag_file_is_the_error_reported

echo "== Windows: evpack.exe on the sample"
cargo build --locked --target "$target"
cargo build --locked
exe="$out/$target/debug/evpack.exe"
linux="$out/debug/evpack"
work=$(mktemp -d)
trap 'rm -rf "$work"; /usr/lib/wine/wineserver -k 2>/dev/null || true' EXIT
mkdir "$work/win" "$work/linux"

# Windows spelling of a Linux path: Wine shows the root as drive Z:.
winpath() { printf 'Z:%s' "$(realpath "$1" | tr / '\\')"; }
evidence=$(winpath evidence)
manifest=$(winpath manifests/devon-focused-visit-2021.toml)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# Runs `name` on both builds (Windows paths for evpack.exe) and requires the same exit
# code and the same output, once `\` in paths is written `/`.
same() {
    local name=$1
    shift
    local lcode=0 wcode=0
    "$linux" "$@" --evidence "$(realpath evidence)" \
        --manifest "$(realpath manifests/devon-focused-visit-2021.toml)" \
        >"$work/$name.linux" 2>&1 || lcode=$?
    "$wine" "$exe" "$@" --evidence "$evidence" --manifest "$manifest" \
        >"$work/$name.win" 2>&1 || wcode=$?
    [ "$lcode" = "$wcode" ] || fail "$name: evpack.exe exited $wcode, Linux $lcode"
    # JSON doubles each `\`; Wine names the root Z:.
    sed -e 's#\\\\#/#g' -e 's#\\#/#g' -e 's#Z:/#/#g' "$work/$name.win" >"$work/$name.w"
    diff -u "$work/$name.linux" "$work/$name.w" || fail "$name: evpack.exe says something else"
    echo "ok: $name (exit $wcode, same output)"
}
same gaps gaps
same gaps-json gaps --format json
same list list
same list-json list --format json

code=0
"$wine" "$exe" manifest check "$manifest" || code=$?
[ "$code" = 0 ] || fail "manifest check exited $code"
# A glob written the Windows way: `misc\audits/...` (a TOML `\\` is one `\`).
sed '0,/paths = \["/s//paths = ["misc\\\\/' manifests/devon-focused-visit-2021.toml >"$work/bad.toml"
code=0
"$wine" "$exe" manifest check "$(winpath "$work/bad.toml")" >"$work/bad.out" 2>&1 || code=$?
[ "$code" = 2 ] && grep -q "use / in globs, even on Windows" "$work/bad.out" \
    || fail "a backslash in a glob: exit $code, $(cat "$work/bad.out")"
echo "ok: manifest check (and a backslash in a glob refused)"

"$wine" "$exe" report --evidence "$evidence" --manifest "$manifest" \
    --out "$(winpath "$work/win")\\readiness.html" >/dev/null || true
grep -q "<html" "$work/win/readiness.html" || fail "report wrote no dashboard"
echo "ok: report"

"$wine" "$exe" build --evidence "$evidence" --manifest "$manifest" --date 2021-01-15 \
    --quiet --out "$(winpath "$work/win")\\pack.zip" >/dev/null
"$linux" build --evidence evidence --manifest manifests/devon-focused-visit-2021.toml \
    --date 2021-01-15 --quiet --out "$work/linux/pack.zip" >/dev/null
cmp "$work/win/pack.zip" "$work/linux/pack.zip" || fail "the Windows pack differs from Linux's"
(cd "$work/win" && sha256sum -c --quiet pack.zip.sha256) || fail "pack.zip.sha256 from evpack.exe"
echo "ok: build (byte-identical to the Linux build)"

"$linux" verify "$work/win/pack.zip" --digest-file "$work/win/pack.zip.sha256" --quiet \
    || fail "the pack evpack.exe built does not verify on Linux"
"$wine" "$exe" verify "$(winpath "$work/linux/pack.zip")" \
    --digest-file "$(winpath "$work/linux/pack.zip.sha256")" --quiet \
    || fail "evpack.exe does not verify the Linux pack"
python3 -m zipfile -e "$work/win/pack.zip" "$work/unzipped"
"$wine" "$exe" verify "$(winpath "$work/unzipped")\\$(ls "$work/unzipped")" --quiet \
    || fail "evpack.exe does not verify the unzipped pack"
echo "ok: verify (the zip on both, the unzipped folder on Windows)"
