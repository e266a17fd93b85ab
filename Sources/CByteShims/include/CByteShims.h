#ifndef OSPREY_BYTE_SHIMS_H
#define OSPREY_BYTE_SHIMS_H
#include <stddef.h>

// The first occurrence of the n bytes at `n` in the hl bytes at `h`, or NULL (bytes.c).
const void *osprey_memmem(const void *h, size_t hl, const void *n, size_t nl);
#endif
