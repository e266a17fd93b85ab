#ifndef OSPREY_BYTE_SHIMS_H
#define OSPREY_BYTE_SHIMS_H
// glibc declares memmem only under _GNU_SOURCE, which Swift's Glibc module does not set.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <string.h>
#include <stddef.h>
static inline const void *osprey_memmem(const void *h, size_t hl, const void *n, size_t nl) {
    return memmem(h, hl, n, nl);
}
#endif
