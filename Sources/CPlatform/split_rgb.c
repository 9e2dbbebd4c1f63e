#include "split_rgb.h"

static void split_plain(const uint8_t *restrict s, uint8_t *restrict r, uint8_t *restrict g, uint8_t *restrict b,
                        size_t from, size_t n) {
    for (size_t i = from; i < n; i++) {
        r[i] = s[3 * i];
        g[i] = s[3 * i + 1];
        b[i] = s[3 * i + 2];
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <tmmintrin.h>

/* 48 bytes (16 pixels) in three loads; each plane is three shuffles OR-ed: byte k of the
   plane comes from byte 3k + plane of the 48, in the first, second or third load. */
__attribute__((target("ssse3")))
static void split_ssse3(const uint8_t *restrict s, uint8_t *restrict r, uint8_t *restrict g, uint8_t *restrict b, size_t n) {
    const __m128i r0 = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i r1 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1);
    const __m128i r2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13);
    const __m128i g0 = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g1 = _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1);
    const __m128i g2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14);
    const __m128i b0 = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b1 = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1);
    const __m128i b2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(s + 3 * i));
        __m128i y = _mm_loadu_si128((const __m128i *)(s + 3 * i + 16));
        __m128i z = _mm_loadu_si128((const __m128i *)(s + 3 * i + 32));
        _mm_storeu_si128((__m128i *)(r + i),
                         _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x, r0), _mm_shuffle_epi8(y, r1)), _mm_shuffle_epi8(z, r2)));
        _mm_storeu_si128((__m128i *)(g + i),
                         _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x, g0), _mm_shuffle_epi8(y, g1)), _mm_shuffle_epi8(z, g2)));
        _mm_storeu_si128((__m128i *)(b + i),
                         _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x, b0), _mm_shuffle_epi8(y, b1)), _mm_shuffle_epi8(z, b2)));
    }
    split_plain(s, r, g, b, i, n);
}
#endif

void tessera_split_rgb(const uint8_t *src, uint8_t *red, uint8_t *green, uint8_t *blue, size_t count) {
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("ssse3")) {
        split_ssse3(src, red, green, blue, count);
        return;
    }
#endif
    split_plain(src, red, green, blue, 0, count);
}
