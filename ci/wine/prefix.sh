#!/usr/bin/env bash
# Makes the Wine prefix in $WINEPREFIX able to run Rust programs. Debian's Wine 8 has no
# bcryptprimitives.dll, whose ProcessPrng Rust's standard library imports, so every Rust
# program stops at load (status 53); a stand-in built here from bcryptprimitives.c goes in
# the prefix's system32. Nothing built here is committed or shipped. Safe to run again.
set -euo pipefail
: "${WINEPREFIX:?set WINEPREFIX to the prefix to make}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export WINEARCH=win64 WINEDEBUG=-all
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -d "$sys32" ]; then
    mkdir -p "$(dirname "$WINEPREFIX")"
    # wineboot complains about 32-bit parts Debian's wine64 does not ship; the prefix is
    # judged by what it made.
    /usr/lib/wine/wine64 wineboot -i >/dev/null 2>&1 || true
    [ -d "$sys32" ] || { echo "FAIL: wineboot made no prefix in $WINEPREFIX" >&2; exit 1; }
fi
x86_64-w64-mingw32-gcc -O2 -s -shared -o "$sys32/bcryptprimitives.dll" \
    "$here/bcryptprimitives.c" "$here/bcryptprimitives.def" -ladvapi32
