// Compiled as C with the package's optimization, not inlined from the header: Swift's import of a header's
// inline functions left them unoptimized (a call per byte ranked, spilled registers in the loop).
// glibc declares memmem only under _GNU_SOURCE.
#define _GNU_SOURCE 1
#include <string.h>
#include "CByteShims.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// How common a byte is in log text (0 rarest): the substring search below anchors on the needle's two rarest
// bytes, so few positions need a full comparison. A rough ranking, as in other rare-byte searchers.
static const unsigned char osprey_commonness[256] = {
    ['0' ... '9'] = 5, ['A' ... 'Z'] = 2,
    ['j'] = 3, ['k'] = 3, ['q'] = 3, ['v'] = 3, ['x'] = 3, ['z'] = 3,
    ['l'] = 6, ['c'] = 6, ['d'] = 6, ['u'] = 6, ['m'] = 6, ['h'] = 6, ['p'] = 6, ['g'] = 6, ['f'] = 6, ['y'] = 6,
    ['b'] = 6, ['w'] = 6,
    ['e'] = 8, ['t'] = 8, ['a'] = 8, ['o'] = 8, ['i'] = 8, ['n'] = 8, ['s'] = 8, ['r'] = 8,
    [' '] = 9, ['"'] = 9, [','] = 9, [':'] = 9, ['='] = 9, ['|'] = 9, ['.'] = 9, ['-'] = 9, ['_'] = 9, ['/'] = 9,
    ['@'] = 9,
};

// Substring search for the parse engine's conditions: short needles (5-30 bytes) in lines of a few hundred
// bytes, most of them absent. glibc's memmem (two-way) prepares the needle on every call and then makes a
// generic pass; this compares two of the needle's bytes, its rarest, at 32 positions per step (AVX2, when the
// CPU has it) or 16 (SSE2, part of every x86-64), and compares the whole needle only where both agree. Other
// targets use memmem.
#if defined(__SSE2__)
static void osprey_anchors(const unsigned char *nb, size_t nl, size_t *pp, size_t *qp) {
    size_t p = 0, q = 1;
    int sp = osprey_commonness[nb[0]], sq = osprey_commonness[nb[1]];
    if (sq < sp) { size_t t = p; p = q; q = t; int u = sp; sp = sq; sq = u; }
    for (size_t k = 2; k < nl; k++) {
        int sk = osprey_commonness[nb[k]];
        if (sk < sp) { q = p; sq = sp; p = k; sp = sk; }
        else if (sk < sq) { q = k; sq = sk; }
    }
    *pp = p; *qp = q;
}

// The positions from i on, one by one (the tail a vector step cannot cover).
static const void *osprey_tail(const unsigned char *hb, size_t hl, const unsigned char *nb, size_t nl,
                               size_t p, size_t q, size_t i) {
    for (; i + nl <= hl; i++) {
        if (hb[i + p] == nb[p] && hb[i + q] == nb[q] && memcmp(hb + i, nb, nl) == 0) return hb + i;
    }
    return NULL;
}

static const void *osprey_find_sse2(const unsigned char *hb, size_t hl, const unsigned char *nb, size_t nl,
                                    size_t p, size_t q) {
    const __m128i bp = _mm_set1_epi8((char)nb[p]), bq = _mm_set1_epi8((char)nb[q]);
    size_t i = 0;
    for (; i + nl + 15 <= hl; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(hb + i + p));
        __m128i y = _mm_loadu_si128((const __m128i *)(hb + i + q));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x, bp), _mm_cmpeq_epi8(y, bq)));
        while (mask != 0) {
            unsigned bit = (unsigned)__builtin_ctz(mask);
            if (memcmp(hb + i + bit, nb, nl) == 0) return hb + i + bit;
            mask &= mask - 1;
        }
    }
    return osprey_tail(hb, hl, nb, nl, p, q, i);
}

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
__attribute__((target("avx2")))
static const void *osprey_find_avx2(const unsigned char *hb, size_t hl, const unsigned char *nb, size_t nl,
                                    size_t p, size_t q) {
    const __m256i bp = _mm256_set1_epi8((char)nb[p]), bq = _mm256_set1_epi8((char)nb[q]);
    size_t i = 0;
    for (; i + nl + 31 <= hl; i += 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(hb + i + p));
        __m256i y = _mm256_loadu_si256((const __m256i *)(hb + i + q));
        unsigned mask = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(x, bp), _mm256_cmpeq_epi8(y, bq)));
        while (mask != 0) {
            unsigned bit = (unsigned)__builtin_ctz(mask);
            if (memcmp(hb + i + bit, nb, nl) == 0) return hb + i + bit;
            mask &= mask - 1;
        }
    }
    return osprey_find_sse2(hb + i, hl - i, nb, nl, p, q);
}
#define OSPREY_HAVE_AVX2_PATH 1
#endif
#endif

const void *osprey_memmem(const void *h, size_t hl, const void *n, size_t nl) {
#if defined(__SSE2__)
    if (nl >= 2 && hl >= nl) {
        const unsigned char *hb = (const unsigned char *)h, *nb = (const unsigned char *)n;
        size_t p, q;
        osprey_anchors(nb, nl, &p, &q);
#if defined(OSPREY_HAVE_AVX2_PATH)
        // Asked once; parse threads may race to store the same answer (relaxed atomics, no lock).
        static int avx2 = -1;
        int has = __atomic_load_n(&avx2, __ATOMIC_RELAXED);
        if (has < 0) { has = __builtin_cpu_supports("avx2") ? 1 : 0; __atomic_store_n(&avx2, has, __ATOMIC_RELAXED); }
        if (has && hl >= nl + 31) return osprey_find_avx2(hb, hl, nb, nl, p, q);
#endif
        return osprey_find_sse2(hb, hl, nb, nl, p, q);
    }
#endif
    return memmem(h, hl, n, nl);
}

// The offset of the first `"` or `\` in the n bytes at p, or n: where a JSON string can end or escape, 16
// bytes per step (JSON strings in Mimecast records run to hundreds of bytes of free text).
size_t osprey_find_quote_or_backslash(const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(b + i));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
        if (mask != 0) return i + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; i < n; i++) {
        if (b[i] == '"' || b[i] == '\\') return i;
    }
    return n;
}
