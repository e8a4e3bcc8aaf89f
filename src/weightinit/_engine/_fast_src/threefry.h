/*
 * The generator: Threefry-2x32 with 20 rounds (reference: _threefry.py), on
 * arrays of counters. Inlined into every instruction set's loops (pipeline.h);
 * isa_avx2.c has the same rounds on AVX2 registers (TF_ROUNDS_V).
 */

#ifndef WI_THREEFRY_H
#define WI_THREEFRY_H

#include "kernel.h"

#define KS_PARITY 0x1BD11BDAu

/* ------------------------------------------------------------------------ */
/* Threefry-2x32-20 over arrays of counters, in place.                       */

#define ROTL32(x, r) (((x) << (r)) | ((x) >> (32 - (r))))
#define TF_ROUND(r) \
    a += b;         \
    b = ROTL32(b, r) ^ a;
#define TF_FOUR_A TF_ROUND(13) TF_ROUND(15) TF_ROUND(26) TF_ROUND(6)
#define TF_FOUR_B TF_ROUND(17) TF_ROUND(29) TF_ROUND(16) TF_ROUND(24)

WI_INLINE void threefry_lanes(uint32_t *WI_RESTRICT x0, uint32_t *WI_RESTRICT x1, int n,
                              uint32_t k0, uint32_t k1) {
    const uint32_t k2 = k0 ^ k1 ^ KS_PARITY;
    for (int j = 0; j < n; j++) {
        uint32_t a = x0[j] + k0;
        uint32_t b = x1[j] + k1;
        TF_FOUR_A a += k1; b += k2 + 1u;
        TF_FOUR_B a += k2; b += k0 + 2u;
        TF_FOUR_A a += k0; b += k1 + 3u;
        TF_FOUR_B a += k1; b += k2 + 4u;
        TF_FOUR_A a += k2; b += k0 + 5u;
        x0[j] = a;
        x1[j] = b;
    }
}

/* Blocks of the counters (lo + k, hi), k < n (lo + n - 1 must not wrap): the
   words to x0[k], x1[k], or, when w is not NULL, interleaved to w[2k], w[2k + 1]
   (the float32 word order). Portable version; AVX2 has its own. */
WI_INLINE void threefry_run_portable(uint32_t *WI_RESTRICT x0, uint32_t *WI_RESTRICT x1,
                                     uint32_t *WI_RESTRICT w, int n, uint32_t lo, uint32_t hi,
                                     uint32_t k0, uint32_t k1) {
    for (int k = 0; k < n; k++) {
        x0[k] = lo + (uint32_t)k;
        x1[k] = hi;
    }
    threefry_lanes(x0, x1, n, k0, k1);
    if (w)
        for (int k = 0; k < n; k++) {
            w[2 * k] = x0[k];
            w[2 * k + 1] = x1[k];
        }
}

#endif /* WI_THREEFRY_H */
