#ifndef OSPREY_CPCRE2_SHIM_H
#define OSPREY_CPCRE2_SHIM_H
// Osprey matches UTF-8 bytes only: the 8-bit code unit library.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
// Macros that Swift cannot import directly.
static inline size_t osprey_pcre2_zero_terminated(void) { return PCRE2_ZERO_TERMINATED; }
static inline size_t osprey_pcre2_unset(void) { return PCRE2_UNSET; }
#endif
