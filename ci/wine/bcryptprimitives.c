/* Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's standard library imports
 * for randomness (HashMap seeds), so every Rust program stops at load. This stand-in, for
 * the CI's Wine prefix only, fills the buffer from advapi32's RtlGenRandom
 * (SystemFunction036), which Wine has; ProcessPrng takes a SIZE_T length and
 * RtlGenRandom a ULONG, hence the loop. Built by ci/wine/prefix.sh; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
