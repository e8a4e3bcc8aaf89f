/*
 * The AVX2 (+ F16C) variant of the loops: Threefry on registers, the float64
 * transforms with intrinsics, vector compaction of the normal tails. Compiled
 * with GCC target attributes on x86-64 only (WI_MULTIVERSION); used when the
 * CPU has AVX2 and F16C (dispatch.c).
 */

#include "kernel.h"
#include "pipeline.h"

#if WI_MULTIVERSION
/* AVX2 has no vector rotate: a rotation is two shifts and an or, and Zen 2 /
   Haswell run vector shifts on fewer ports than adds. Rotations by 16 and 24
   bits are byte permutations (one shuffle). Four vectors (32 blocks) are
   interleaved so that the 20 dependent rounds of one do not stall the core. */
#define TF_V 4
#define ROTV(x, r) _mm256_or_si256(_mm256_slli_epi32((x), (r)), _mm256_srli_epi32((x), 32 - (r)))
#define TF_ROUND_V(r)                                                      \
    for (int v = 0; v < TF_V; v++) {                                       \
        a[v] = _mm256_add_epi32(a[v], b[v]);                               \
        b[v] = _mm256_xor_si256(                                           \
            (r) == 16 ? _mm256_shuffle_epi8(b[v], rot16)                   \
                      : (r) == 24 ? _mm256_shuffle_epi8(b[v], rot24) : ROTV(b[v], (r)), \
            a[v]);                                                         \
    }
#define TF_INJECT_V(ka, kb, s)                                             \
    for (int v = 0; v < TF_V; v++) {                                       \
        a[v] = _mm256_add_epi32(a[v], (ka));                               \
        b[v] = _mm256_add_epi32(b[v], _mm256_add_epi32((kb), _mm256_set1_epi32(s))); \
    }
#define TF_FOUR_A_V TF_ROUND_V(13) TF_ROUND_V(15) TF_ROUND_V(26) TF_ROUND_V(6)
#define TF_FOUR_B_V TF_ROUND_V(17) TF_ROUND_V(29) TF_ROUND_V(16) TF_ROUND_V(24)

#define TF_CONSTANTS_V                                                                         \
    const uint32_t k2 = k0 ^ k1 ^ KS_PARITY;                                                   \
    const __m256i K0 = _mm256_set1_epi32((int)k0), K1 = _mm256_set1_epi32((int)k1),           \
                  K2 = _mm256_set1_epi32((int)k2);                                             \
    /* per 32-bit lane: rotl 16 takes bytes (2, 3, 0, 1), rotl 24 bytes (1, 2, 3, 0) */          \
    const __m256i rot16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, \
                                           2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13); \
    const __m256i rot24 = _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12, \
                                           1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12)
/* the 20 rounds and key injections on a[], b[] (the first key already added) */
#define TF_ROUNDS_V                                                                            \
    TF_FOUR_A_V TF_INJECT_V(K1, K2, 1) TF_FOUR_B_V TF_INJECT_V(K2, K0, 2)                      \
    TF_FOUR_A_V TF_INJECT_V(K0, K1, 3) TF_FOUR_B_V TF_INJECT_V(K1, K2, 4)                      \
    TF_FOUR_A_V TF_INJECT_V(K2, K0, 5)

WI_ATTR_AVX2 static void threefry_avx2(uint32_t *x0, uint32_t *x1, int n, uint32_t k0, uint32_t k1) {
    TF_CONSTANTS_V;
    int j = 0;
    for (; j + 8 * TF_V <= n; j += 8 * TF_V) {
        __m256i a[TF_V], b[TF_V];
        for (int v = 0; v < TF_V; v++) {
            a[v] = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(x0 + j + 8 * v)), K0);
            b[v] = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(x1 + j + 8 * v)), K1);
        }
        TF_ROUNDS_V
        for (int v = 0; v < TF_V; v++) {
            _mm256_storeu_si256((__m256i *)(x0 + j + 8 * v), a[v]);
            _mm256_storeu_si256((__m256i *)(x1 + j + 8 * v), b[v]);
        }
    }
    if (j < n) threefry_lanes(x0 + j, x1 + j, n - j, k0, k1);
}

/* For the blocks (lo + k, hi): the constants, then a[], b[] of the 8 * TF_V
   blocks from j after the 20 rounds, made from counters in registers; lane l
   of vector v holds block j + 8 v + STEPS[l]. */
#define TF_RUN_SETUP_STEPS_V(STEPS)                                                            \
    TF_CONSTANTS_V;                                                                            \
    const __m256i steps = (STEPS);                                                             \
    const __m256i first = _mm256_add_epi32(_mm256_set1_epi32((int)lo), K0);                    \
    const __m256i second = _mm256_add_epi32(_mm256_set1_epi32((int)hi), K1)
#define TF_RUN_SETUP_V TF_RUN_SETUP_STEPS_V(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
/* Lanes 0, 1, 4, 5 hold blocks 0-3 and lanes 2, 3, 6, 7 blocks 4-7: the in-lane
   unpacks (lo, then hi) of such a vector give 64-bit lanes in block order. */
#define TF_PAIRED_ORDER _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
#define TF_RUN_BLOCKS_V                                                                        \
    __m256i a[TF_V], b[TF_V];                                                                  \
    for (int v = 0; v < TF_V; v++) {                                                           \
        a[v] = _mm256_add_epi32(_mm256_add_epi32(first, _mm256_set1_epi32(j + 8 * v)), steps); \
        b[v] = second;                                                                         \
    }                                                                                          \
    TF_ROUNDS_V

/* threefry_run_portable with the counters made in registers and, for w, the
   words interleaved by unpacks (which pair lanes within each 128-bit half)
   and a swap of the middle halves. */
WI_ATTR_AVX2 static void threefry_run_avx2(uint32_t *x0, uint32_t *x1, uint32_t *w, int n,
                                           uint32_t lo, uint32_t hi, uint32_t k0, uint32_t k1) {
    TF_RUN_SETUP_V;
    int j = 0;
    for (; j + 8 * TF_V <= n; j += 8 * TF_V) {
        TF_RUN_BLOCKS_V
        if (w) {
            for (int v = 0; v < TF_V; v++) {
                const __m256i l = _mm256_unpacklo_epi32(a[v], b[v]); /* blocks 0 1 | 4 5 */
                const __m256i h = _mm256_unpackhi_epi32(a[v], b[v]); /* blocks 2 3 | 6 7 */
                uint32_t *dst = w + 2 * (j + 8 * v);
                _mm256_storeu_si256((__m256i *)dst, _mm256_permute2x128_si256(l, h, 0x20));
                _mm256_storeu_si256((__m256i *)(dst + 8), _mm256_permute2x128_si256(l, h, 0x31));
            }
        } else {
            for (int v = 0; v < TF_V; v++) {
                _mm256_storeu_si256((__m256i *)(x0 + j + 8 * v), a[v]);
                _mm256_storeu_si256((__m256i *)(x1 + j + 8 * v), b[v]);
            }
        }
    }
    if (j < n)
        threefry_run_portable(x0 + j, x1 + j, w ? w + 2 * j : NULL, n - j, lo + (uint32_t)j, hi, k0,
                              k1);
}

WI_ATTR_AVX2 static void cvt16_avx2(const float *src, uint16_t *dst, int n) {
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + j),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + j), h);
    }
    for (; j < n; j++) dst[j] = to_f16(src[j]);
}
/* central64 with AVX2 intrinsics: the operations of central_f64, in the same
   order (no fused multiply-add), on C64_V vectors whose Horner chains advance
   together (see KEEP_STEP). */
#define C64_V 4 /* vectors interleaved by the float64 AVX2 loops */

/* GCC turns a chain of single-use values into one expression tree and emits
   it depth first, so the interleaved Horner chains of the source would run one
   vector after the other, each step waiting for the one before (the core
   overlaps them only partly). An empty asm that takes the value in a register
   ends the tree at every step and keeps the source's order; it changes no
   operation, so no bit. */
#define KEEP_STEP(x) __asm__("" : "+x"(x))

/* horner8 (numerator and denominator of one rational) on nv interleaved
   vectors: the two chains of every vector advance together, so the dependent
   multiply-adds of one overlap with the others'. */
WI_ATTR_AVX2 WI_INLINE void horner8_pair_avx2(const double *cn, const double *cd, const __m256d *x,
                                              __m256d *num, __m256d *den, int nv) {
    for (int v = 0; v < nv; v++) {
        num[v] = _mm256_set1_pd(cn[7]);
        den[v] = _mm256_set1_pd(cd[7]);
    }
    for (int k = 6; k >= 0; k--) {
        const __m256d a = _mm256_set1_pd(cn[k]), b = _mm256_set1_pd(cd[k]);
        for (int v = 0; v < nv; v++) {
            num[v] = _mm256_add_pd(_mm256_mul_pd(num[v], x[v]), a);
            den[v] = _mm256_add_pd(_mm256_mul_pd(den[v], x[v]), b);
            KEEP_STEP(num[v]);
            KEEP_STEP(den[v]);
        }
    }
}

/* central64 on nv vectors from j (nv is a constant after inlining). */
WI_ATTR_AVX2 WI_INLINE void central64_vectors(const double *qd, int j, int nv, int truncated,
                                              __m256d mean, __m256d std, double *dst) {
    const __m256d c0180625 = _mm256_set1_pd(0.180625);
    __m256d q[C64_V], rc[C64_V], na[C64_V], nb[C64_V];
    for (int v = 0; v < nv; v++) {
        q[v] = _mm256_loadu_pd(qd + j + 4 * v);
        rc[v] = _mm256_sub_pd(c0180625, _mm256_mul_pd(q[v], q[v]));
    }
    horner8_pair_avx2(A16, B16, rc, na, nb, nv);
    const __m256d lo = _mm256_set1_pd(-2.0), hi = _mm256_set1_pd(2.0);
    for (int v = 0; v < nv; v++) {
        __m256d z = _mm256_div_pd(_mm256_mul_pd(q[v], na[v]), nb[v]);
        /* finish_f64: (-2 > z) ? -2 : z, then (2 < z) ? 2 : z, as maxpd / minpd pick */
        if (truncated) z = _mm256_min_pd(hi, _mm256_max_pd(lo, z));
        _mm256_storeu_pd(dst + j + 4 * v, _mm256_add_pd(_mm256_mul_pd(z, std), mean));
    }
}

WI_ATTR_AVX2 static void central64_avx2(const double *qd, int n, int truncated, double mean,
                                        double std, double *dst) {
    const __m256d mv = _mm256_set1_pd(mean), sv = _mm256_set1_pd(std);
    int j = 0;
    for (; j + 4 * C64_V <= n; j += 4 * C64_V) central64_vectors(qd, j, C64_V, truncated, mv, sv, dst);
    for (; j + 4 <= n; j += 4) central64_vectors(qd, j, 1, truncated, mv, sv, dst);
    if (j < n) central64_portable(qd + j, n - j, truncated, mean, std, dst + j);
}

/* q_of_words_f64 of the blocks (lo + k, hi), k < n, from the Threefry words in
   registers: with the counters in TF_PAIRED_ORDER, an in-lane unpack of the two
   words gives each block's x0 * 2^32 + x1 in its 64-bit lane, in block order;
   its top 52 bits are the reference's m, then the same operations. Fewer of
   the shuffles and shifts that Zen 2 runs on one port only (as Threefry's
   rotations) than converting words loaded from memory. */
WI_ATTR_AVX2 static void q64_run_avx2(int n, uint32_t lo, uint32_t hi, uint32_t k0, uint32_t k1,
                                      int truncated, double *qd, uint32_t *x0, uint32_t *x1) {
    TF_RUN_SETUP_STEPS_V(TF_PAIRED_ORDER);
    const __m256i magic = _mm256_set1_epi64x(0x4330000000000000ll);
    const __m256d off = _mm256_set1_pd(0x1p52 + 0x1p51), half = _mm256_set1_pd(0.5);
    const __m256d scale = _mm256_set1_pd(0x1p-52), mass = _mm256_set1_pd(TRUNC_MASS);
    int j = 0;
    for (; j + 8 * TF_V <= n; j += 8 * TF_V) {
        TF_RUN_BLOCKS_V
        for (int v = 0; v < TF_V; v++)
            for (int h = 0; h < 2; h++) {
                const __m256i w = h ? _mm256_unpackhi_epi32(b[v], a[v]) : _mm256_unpacklo_epi32(b[v], a[v]);
                const __m256i m = _mm256_or_si256(_mm256_srli_epi64(w, 12), magic);
                __m256d q = _mm256_sub_pd(_mm256_castsi256_pd(m), off);
                q = _mm256_mul_pd(_mm256_add_pd(q, half), scale);
                if (truncated) q = _mm256_mul_pd(q, mass);
                _mm256_storeu_pd(qd + j + 8 * v + 4 * h, q);
            }
    }
    if (j < n) q64_run_portable(n - j, lo + (uint32_t)j, hi, k0, k1, truncated, qd + j, x0, x1);
}

/* The constants of uniform64_vector. */
typedef struct {
    __m128i bias;
    __m256i magic;
    __m256d shift21, scale, width, low, below_high;
} uniform64_consts;

WI_ATTR_AVX2 WI_INLINE uniform64_consts uniform64_setup(double low, double width, double below_high) {
    uniform64_consts c;
    c.bias = _mm_set1_epi32((int)0x80000000u);
    c.magic = _mm256_set1_epi64x(0x4330000000000000ll);
    c.shift21 = _mm256_set1_pd(0x1p21);
    c.scale = _mm256_set1_pd(0x1p-53);
    c.width = _mm256_set1_pd(width);
    c.low = _mm256_set1_pd(low);
    c.below_high = _mm256_set1_pd(below_high);
    return c;
}

/* uniform_words_f64 with AVX2 intrinsics: four values from the words x0 (hi32)
   and x1 (lo32) of four blocks. The 53-bit integer m = x0 * 2^21 + (x1 >> 11)
   is formed exactly in float64 from a signed conversion and the 2^52 exponent
   trick: (x0 - 2^31) * 2^21 + (2^52 + (x1 >> 11)), every step exact (integers
   below 2^53), so m * 2^-53 is the reference's hi + lo, bit for bit; then the
   same scale, shift and clamp, in the same order. */
WI_ATTR_AVX2 WI_INLINE __m256d uniform64_finish(__m256d a, __m256d b, const uniform64_consts *c) {
    __m256d u = _mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(a, c->shift21), b), c->scale);
    u = _mm256_add_pd(_mm256_mul_pd(u, c->width), c->low);
    return _mm256_min_pd(c->below_high, u); /* (bh < u) ? bh : u, as the reference */
}

/* a = x0 - 2^31 and b = 2^52 + (x1 >> 11) as float64, then the value */
WI_ATTR_AVX2 WI_INLINE __m256d uniform64_vector(__m128i hi32, __m128i lo32, const uniform64_consts *c) {
    const __m256d a = _mm256_cvtepi32_pd(_mm_xor_si128(hi32, c->bias));
    const __m256i low21 = _mm256_cvtepu32_epi64(_mm_srli_epi32(lo32, 11));
    return uniform64_finish(a, _mm256_castsi256_pd(_mm256_or_si256(low21, c->magic)), c);
}

WI_ATTR_AVX2 static void uniform64_avx2(const uint32_t *x0, const uint32_t *x1, int n, double low,
                                        double width, double below_high, double *dst) {
    const uniform64_consts c = uniform64_setup(low, width, below_high);
    int j = 0;
    for (; j + 4 <= n; j += 4)
        _mm256_storeu_pd(dst + j, uniform64_vector(_mm_loadu_si128((const __m128i *)(x0 + j)),
                                                   _mm_loadu_si128((const __m128i *)(x1 + j)), &c));
    if (j < n) uniform64_portable(x0 + j, x1 + j, n - j, low, width, below_high, dst + j);
}

/* threefry_run_avx2 and uniform64_avx2 in one loop: the words of each vector
   of blocks go from registers to float64 values, never through memory. The
   counters are in TF_PAIRED_ORDER and in-lane unpacks with zero make each
   word a 64-bit integer, so x0 - 2^31 is (2^52 + x0) - (2^52 + 2^31) with the
   2^52 exponent trick (exact) rather than a conversion: Zen 2 runs conversions,
   lane-crossing shuffles and shifts on one port, which Threefry's rotations
   keep busy. Then uniform64_finish, or, when width * 2^-53 is exact (not
   subnormal: |width| >= 2^-969, or 0, or not finite), m (width 2^-53): one
   rounding of the same product (m 2^-53) width that the reference rounds once,
   so the same value, one multiplication fewer. */
WI_ATTR_AVX2 static void uniform64_run_avx2(int n, uint32_t lo, uint32_t hi, uint32_t k0,
                                            uint32_t k1, double low, double width,
                                            double below_high, double *dst, uint32_t *x0,
                                            uint32_t *x1) {
    TF_RUN_SETUP_STEPS_V(TF_PAIRED_ORDER);
    const uniform64_consts c = uniform64_setup(low, width, below_high);
    const __m256i zero = _mm256_setzero_si256();
    const __m256d off = _mm256_set1_pd(0x1p52 + 0x1p31);
    const int fold = !(fabs(width) < 0x1p-969) || width == 0.0;
    const __m256d ws = _mm256_set1_pd(width * 0x1p-53);
    int j = 0;
    for (; j + 8 * TF_V <= n; j += 8 * TF_V) {
        TF_RUN_BLOCKS_V
        for (int v = 0; v < TF_V; v++) {
            const __m256i bs = _mm256_srli_epi32(b[v], 11);
            for (int h = 0; h < 2; h++) {
                const __m256i wa = h ? _mm256_unpackhi_epi32(a[v], zero) : _mm256_unpacklo_epi32(a[v], zero);
                const __m256i wb = h ? _mm256_unpackhi_epi32(bs, zero) : _mm256_unpacklo_epi32(bs, zero);
                const __m256d a = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(wa, c.magic)), off);
                const __m256d b = _mm256_castsi256_pd(_mm256_or_si256(wb, c.magic));
                __m256d u;
                if (fold) {
                    u = _mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(a, c.shift21), b), ws);
                    u = _mm256_min_pd(c.below_high, _mm256_add_pd(u, c.low));
                } else {
                    u = uniform64_finish(a, b, &c);
                }
                _mm256_storeu_pd(dst + j + 8 * v + 4 * h, u);
            }
        }
    }
    if (j < n)
        uniform64_run_portable(n - j, lo + (uint32_t)j, hi, k0, k1, low, width, below_high, dst + j,
                               x0, x1);
}

/* tail64 with AVX2 intrinsics: log_neg_f64, sqrt and the near-tail rational
   of tail_f64, operation for operation, on C64_V interleaved vectors of the
   lanes qd[ti[t]], ...; sets bits of *beyond for lanes past r = 5. */
WI_ATTR_AVX2 WI_INLINE void tail64_vectors(const double *qd, const int32_t *ti, int t, double *tz,
                                           int *beyond) {
    const __m256d absm = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
    const __m256i mant = _mm256_set1_epi64x(0x000FFFFFFFFFFFFFll);
    const __m256i expo = _mm256_set1_epi64x(0x3FE0000000000000ll);
    const __m256i bit52 = _mm256_set1_epi64x(1ll << 52);
    const __m256i magic = _mm256_set1_epi64x(0x4330000000000000ll);
    const __m256d ebias = _mm256_set1_pd(0x1p52 + 1022.0), sqrt_half = _mm256_set1_pd(SQRT_HALF);
    const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0), halfv = _mm256_set1_pd(0.5);
    const __m256d ln2_hi = _mm256_set1_pd(LN2_HI_D), ln2_lo = _mm256_set1_pd(LN2_LO_D);
    const __m256d five = _mm256_set1_pd(5.0), c16 = _mm256_set1_pd(1.6);
    const __m256d signm = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)0x8000000000000000ull));
    static const double inv_odd[10] = {1.0 / 21.0, 1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0,
                                       1.0 / 11.0, 1.0 / 9.0,  1.0 / 7.0,  1.0 / 5.0,  1.0 / 3.0};
    __m256d q[C64_V], s[C64_V], s2[C64_V], p[C64_V], ef[C64_V], r[C64_V];
    for (int v = 0; v < C64_V; v++) {
        const int32_t *i4 = ti + t + 4 * v;
        q[v] = _mm256_setr_pd(qd[i4[0]], qd[i4[1]], qd[i4[2]], qd[i4[3]]);
        const __m256d x = _mm256_sub_pd(halfv, _mm256_and_pd(q[v], absm));
        const __m256i u = _mm256_castpd_si256(x);
        const __m256i mb = _mm256_or_si256(_mm256_and_si256(u, mant), expo);
        const __m256i small =
            _mm256_castpd_si256(_mm256_cmp_pd(_mm256_castsi256_pd(mb), sqrt_half, _CMP_LT_OQ));
        const __m256d m = _mm256_castsi256_pd(_mm256_add_epi64(mb, _mm256_and_si256(small, bit52)));
        /* small is all ones (-1) where set: ebits = (u >> 52) - 1 there */
        const __m256i eb = _mm256_add_epi64(_mm256_srli_epi64(u, 52), small);
        ef[v] = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(magic, eb)), ebias);
        const __m256d f = _mm256_sub_pd(m, one);
        s[v] = _mm256_div_pd(f, _mm256_add_pd(f, two));
        s2[v] = _mm256_mul_pd(s[v], s[v]);
        p[v] = _mm256_set1_pd(inv_odd[0]);
    }
    for (int c = 1; c < 10; c++) {
        const __m256d cc = _mm256_set1_pd(inv_odd[c]);
        for (int v = 0; v < C64_V; v++) {
            p[v] = _mm256_add_pd(_mm256_mul_pd(p[v], s2[v]), cc);
            KEEP_STEP(p[v]);
        }
    }
    for (int v = 0; v < C64_V; v++) {
        const __m256d two_s = _mm256_add_pd(s[v], s[v]);
        const __m256d log_m = _mm256_add_pd(two_s, _mm256_mul_pd(two_s, _mm256_mul_pd(s2[v], p[v])));
        const __m256d lg = _mm256_add_pd(_mm256_mul_pd(ef[v], ln2_hi),
                                         _mm256_add_pd(_mm256_mul_pd(ef[v], ln2_lo), log_m));
        r[v] = _mm256_sqrt_pd(_mm256_xor_pd(lg, signm)); /* -(...) */
        *beyond |= _mm256_movemask_pd(_mm256_cmp_pd(r[v], five, _CMP_GT_OQ));
    }
    __m256d x[C64_V], nt[C64_V], dt[C64_V];
    for (int v = 0; v < C64_V; v++) x[v] = _mm256_sub_pd(r[v], c16);
    horner8_pair_avx2(C16, D16, x, nt, dt, C64_V);
    for (int v = 0; v < C64_V; v++) {
        const __m256d z = _mm256_div_pd(nt[v], dt[v]);
        _mm256_storeu_pd(tz + t + 4 * v, _mm256_xor_pd(z, _mm256_and_pd(q[v], signm)));
    }
}

WI_ATTR_AVX2 static void tail64_avx2(const double *qd, const int32_t *ti, int k, double *tz,
                                     uint32_t *far) {
    int beyond = 0, t = 0;
    for (; t + 4 * C64_V <= k; t += 4 * C64_V) tail64_vectors(qd, ti, t, tz, &beyond);
    if (t < k) {
        /* the last lanes in one more full pass, padded with a q of the near tail
           (r = 1.7): cheaper than short vector or scalar passes */
        double pq[4 * C64_V], pz[4 * C64_V];
        int32_t pi[4 * C64_V];
        const int rest = k - t;
        for (int i = 0; i < 4 * C64_V; i++) {
            pq[i] = i < rest ? qd[ti[t + i]] : 0.45;
            pi[i] = i;
        }
        tail64_vectors(pq, pi, 0, pz, &beyond);
        for (int i = 0; i < rest; i++) tz[t + i] = pz[i];
    }
    if (beyond) *far |= 1u;
}

/* to_bf16 on 16 lanes at a time; the 32-bit results are at most 0xFFFF, so the
   unsigned-saturating pack keeps them, and a lane permutation restores the order. */
WI_ATTR_AVX2 static void cvtbf_avx2(const float *src, uint16_t *dst, int n) {
    const __m256i one = _mm256_set1_epi32(1), half = _mm256_set1_epi32(0x7FFF);
    const __m256i absm = _mm256_set1_epi32(0x7FFFFFFF), inf = _mm256_set1_epi32(0x7F800000);
    const __m256i signm = _mm256_set1_epi32(0x8000), qnan = _mm256_set1_epi32(0x7FC0);
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256i r[2];
        for (int h = 0; h < 2; h++) {
            const __m256i u = _mm256_loadu_si256((const __m256i *)(src + j + 8 * h));
            const __m256i hi = _mm256_srli_epi32(u, 16);
            const __m256i rounded =
                _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, half), _mm256_and_si256(hi, one)), 16);
            const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, absm), inf);
            const __m256i q = _mm256_or_si256(_mm256_and_si256(hi, signm), qnan);
            r[h] = _mm256_blendv_epi8(rounded, q, nan);
        }
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xD8);
        _mm256_storeu_si256((__m256i *)(dst + j), packed);
    }
    for (; j < n; j++) dst[j] = to_bf16(src[j]);
}

/* AVX2 compaction: a movemask of the tail test of 8 lanes picks PERM8[m], the
   positions of its set bits (then zeros); float32 permutes the lanes' q with
   it, the indices are j + PERM8[m]; whole vectors are stored, k advances by
   the number of tail lanes. */
static int32_t PERM8[256][8] __attribute__((aligned(32)));

void wi_init_perms(void) {
    for (int m = 0; m < 256; m++) {
        int k = 0;
        for (int b = 0; b < 8; b++)
            if (m & (1 << b)) PERM8[m][k++] = b;
        while (k < 8) PERM8[m][k++] = 0;
    }
}

WI_ATTR_AVX2 static int compact32_avx2(const float *q, int n, int32_t *ti, float *tq) {
    const __m256 lim = _mm256_set1_ps((float)0.425);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i step = _mm256_set1_epi32(8);
    int k = 0, j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 v = _mm256_loadu_ps(q + j);
        const int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(v, absmask), lim, _CMP_NLE_UQ));
        const __m256i perm = _mm256_loadu_si256((const __m256i *)PERM8[m]);
        _mm256_storeu_ps(tq + k, _mm256_permutevar8x32_ps(v, perm));
        _mm256_storeu_si256((__m256i *)(ti + k), _mm256_permutevar8x32_epi32(idx, perm));
        k += __builtin_popcount((unsigned)m);
        idx = _mm256_add_epi32(idx, step);
    }
    for (; j < n; j++) {
        ti[k] = j;
        tq[k] = q[j];
        k += !(fabsf(q[j]) <= (float)0.425);
    }
    return k;
}

WI_ATTR_AVX2 static int compact64_avx2(const double *q, int n, int32_t *ti) {
    const __m256d lim = _mm256_set1_pd(0.425);
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
    __m256i base = _mm256_setzero_si256();
    const __m256i step = _mm256_set1_epi32(8);
    int k = 0, j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256d v0 = _mm256_and_pd(_mm256_loadu_pd(q + j), absmask);
        const __m256d v1 = _mm256_and_pd(_mm256_loadu_pd(q + j + 4), absmask);
        const int m = _mm256_movemask_pd(_mm256_cmp_pd(v0, lim, _CMP_NLE_UQ)) |
                      (_mm256_movemask_pd(_mm256_cmp_pd(v1, lim, _CMP_NLE_UQ)) << 4);
        _mm256_storeu_si256((__m256i *)(ti + k),
                            _mm256_add_epi32(base, _mm256_load_si256((const __m256i *)PERM8[m])));
        k += __builtin_popcount((unsigned)m);
        base = _mm256_add_epi32(base, step);
    }
    for (; j < n; j++) {
        ti[k] = j;
        k += !(fabs(q[j]) <= 0.425);
    }
    return k;
}

DEFINE_ISA(avx2, WI_ATTR_AVX2)

const wi_isa_t wi_isa_avx2 = {work_range_avx2, threefry_avx2};
#endif /* WI_MULTIVERSION */
