#include "cplatform.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void tessera_tune_allocator(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

#include <stdio.h>
static __thread char captured_error[512];

void tessera_capture_error(const char *module, const char *fmt, va_list ap) {
    (void)module;
    vsnprintf(captured_error, sizeof captured_error, fmt, ap);
}

const char *tessera_captured_error(void) { return captured_error; }

void tessera_clear_captured_error(void) { captured_error[0] = 0; }

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define TESSERA_HAVE_OPENAT2 1
#endif

/* -1 unknown, 0 missing (ENOSYS or blocked by a sandbox), 1 works. */
static int openat2_state = -1;

static int open_beneath_walk(int rootfd, const char *path) {
    char part[4096];
    int dir = rootfd;
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n >= sizeof part) { if (dir != rootfd) close(dir); errno = ENOENT; return -1; }
        memcpy(part, p, n);
        part[n] = 0;
        if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0) {
            if (dir != rootfd) close(dir);
            errno = EXDEV;
            return -1;
        }
        int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (slash ? O_DIRECTORY : 0);
        int fd = openat(dir, part, flags);
        int saved = errno;
        if (dir != rootfd) close(dir);
        if (fd < 0) { errno = saved; return -1; }
        if (!slash) return fd;
        dir = fd;
        p = slash + 1;
    }
}

int tessera_open_beneath(int rootfd, const char *path) {
#ifdef TESSERA_HAVE_OPENAT2
    int state = __atomic_load_n(&openat2_state, __ATOMIC_RELAXED);
    if (state != 0) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK; /* a FIFO must not block the open */
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd >= 0) { __atomic_store_n(&openat2_state, 1, __ATOMIC_RELAXED); return (int)fd; }
        if (errno != ENOSYS && errno != EPERM) { __atomic_store_n(&openat2_state, 1, __ATOMIC_RELAXED); return -1; }
        if (state == 1) return -1; /* openat2 works here: EPERM is the file's own answer */
        __atomic_store_n(&openat2_state, 0, __ATOMIC_RELAXED);
    }
#endif
    return open_beneath_walk(rootfd, path);
}
