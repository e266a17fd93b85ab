#ifndef OSPREY_BYTE_SHIMS_H
#define OSPREY_BYTE_SHIMS_H
#include <stddef.h>

// The first occurrence of the n bytes at `n` in the hl bytes at `h`, or NULL (bytes.c).
const void *osprey_memmem(const void *h, size_t hl, const void *n, size_t nl);

// The offset of the first `"` or `\` in the n bytes at p, or n (bytes.c).
size_t osprey_find_quote_or_backslash(const void *p, size_t n);
#endif
