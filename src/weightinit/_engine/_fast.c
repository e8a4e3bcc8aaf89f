/*
 * weightinit._engine._fast: the compiled sampling kernel.
 *
 * It computes exactly the bits of the numpy reference (_threefry.py, _bits.py,
 * _transforms.py, _special.py and the output casts of _sample._Transform):
 *
 *   - Threefry-2x32 with 20 rounds on 32-bit lanes;
 *   - element i of a float32/float16/bfloat16 tensor takes word i % 2 of block
 *     i / 2; element i of a float64 tensor takes both words of block i;
 *   - the transforms use only + - * / and sqrt, each correctly rounded, in the
 *     same order as the numpy code, with no fused multiply-add (the build passes
 *     -ffp-contract=off), so every result is bitwise equal to the reference;
 *   - float16 and bfloat16 are the round-to-nearest-even casts of the float32
 *     value, equal to numpy's / ml_dtypes' astype (F16C where available).
 *
 * Work is organised in blocks of BL lanes: one loop runs Threefry for the
 * block, the next ones apply the transform (float64 uniform on AVX2: one loop
 * for both).  The loops are branch-free (lane
 * selects are bit masks) so that the compiler vectorises them.  For the normal
 * quantile the central branch runs on every lane; the lanes in the tails
 * (about 15 %) are packed into a short array, run the tail branch there, and
 * go back to their places, so each lane sees exactly the operations of its
 * reference branch.  The loops are compiled three times (x86-64 baseline,
 * AVX2, AVX-512) and the best one the CPU supports is picked at import.  The
 * output is split into chunks of CHUNK elements handed out to threads through
 * an atomic counter; since every value depends only on its flat index, the
 * result does not depend on the number of threads.
 *
 * fill_strided writes into a strided destination instead (a torch weight seen
 * in Keras axis order): each chunk is made in a per-thread scratch buffer and
 * copied to its places, by tiles transposed in registers and streamed as whole
 * cache lines when the destination transposes (see scatter).
 *
 * No numpy C API: buffers come through the buffer protocol.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* No contraction of a * b + c into a fused multiply-add, whatever the build
   flags say (setup.py also passes -ffp-contract=off): it would change bits. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "the kernel needs float arithmetic without excess precision (FLT_EVAL_METHOD == 0)"
#endif

#if defined(_WIN32)
#define WI_THREADS 0
#else
#include <pthread.h>
#define WI_THREADS 1
#endif

#if defined(__GNUC__) && !defined(__clang__)
/* The lane buffers are filled by one loop and read by the next over the same
   count; GCC cannot see that through the function pointers and warns. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__GNUC__)
#define WI_INLINE static inline __attribute__((always_inline))
#define WI_RESTRICT __restrict__
#define WI_ALIGN64 __attribute__((aligned(64)))
#else
#define WI_INLINE static __inline
#define WI_RESTRICT
#define WI_ALIGN64 __declspec(align(64))
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(WI_NO_MULTIVERSION)
#define WI_MULTIVERSION 1
#include <immintrin.h>
#define WI_ATTR_AVX2 __attribute__((target("avx2,f16c,popcnt")))
#define WI_ATTR_AVX512 \
    __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,f16c,popcnt,prefer-vector-width=512")))
#else
#define WI_MULTIVERSION 0
#endif

#if defined(__GNUC__)
#define WI_ATOMIC_FETCH_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#else
#define WI_ATOMIC_FETCH_ADD(p, v) wi_fetch_add_plain((p), (v))
static uint64_t wi_fetch_add_plain(uint64_t *p, uint64_t v) {
    uint64_t old = *p;
    *p = old + v;
    return old;
}
#endif

/* ------------------------------------------------------------------------ */
/* Constants (each double constant is rounded to float32 once, as numpy's    */
/* ftype(c) does).                                                            */

enum { K_UNIFORM = 0, K_NORMAL = 1, K_TRUNCATED = 2 };
enum { D_F32 = 0, D_F64 = 1, D_F16 = 2, D_BF16 = 3 };
enum { ISA_DEFAULT = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_COUNT = 3 };

#define BL 512              /* lanes per block */
#define CHUNK (1u << 16)    /* elements per unit of thread work */
/* ... and of the strided scatter's work: each destination row (a transposing
   destination's column) then gets several cache lines per chunk */
#define SCATTER_CHUNK (1u << 16)
#define MAXD 64             /* outer dimensions of a region */
#define KS_PARITY 0x1BD11BDAu

#define TRUNC_MASS 0.95449973610364158
#define SQRT_HALF 0.70710678118654752440

/* PPND7 (float32) */
#define A7_0 ((float)3.3871327179)
#define A7_1 ((float)50.434271938)
#define A7_2 ((float)159.29113202)
#define A7_3 ((float)59.109374720)
#define B7_0 ((float)1.0)
#define B7_1 ((float)17.895169469)
#define B7_2 ((float)78.757757664)
#define B7_3 ((float)67.187563600)
#define C7_0 ((float)1.4234372777)
#define C7_1 ((float)2.7568153900)
#define C7_2 ((float)1.3067284816)
#define C7_3 ((float)0.17023821103)
#define D7_0 ((float)1.0)
#define D7_1 ((float)0.73700164250)
#define D7_2 ((float)0.12021132975)
#define E7_0 ((float)6.6579051150)
#define E7_1 ((float)3.0812263860)
#define E7_2 ((float)0.42868294337)
#define E7_3 ((float)0.017337203997)
#define F7_0 ((float)1.0)
#define F7_1 ((float)0.24197894225)
#define F7_2 ((float)0.012258202635)

/* PPND16 (float64) */
static const double A16[8] = {
    3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
    1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
    3.3430575583588128105e4, 2.5090809287301226727e3};
static const double B16[8] = {
    1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
    2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
    5.2264952788528545610e3};
static const double C16[8] = {
    1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
    3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
    2.27238449892691845833e-2, 7.74545014278341407640e-4};
static const double D16[8] = {
    1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
    1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
    1.05075007164441684324e-9};
static const double E16[8] = {
    6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
    2.71155556874348757815e-5, 2.01033439929228813265e-7};
static const double F16[8] = {
    1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
    7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
    2.04426310338993978564e-15};

/* ln 2 split: e * hi is exact. */
#define LN2_HI_F ((float)6.93145751953125e-01)
#define LN2_LO_F ((float)1.428606765330187045e-06)
#define LN2_HI_D 6.93147180369123816490e-01
#define LN2_LO_D 1.90821492927058770002e-10

/* ------------------------------------------------------------------------ */
/* Bit casts                                                                 */

WI_INLINE uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
WI_INLINE float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
WI_INLINE uint64_t d2u(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
WI_INLINE double u2d(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

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

/* ------------------------------------------------------------------------ */
/* float32 -> float16 / bfloat16, round to nearest even, integer only.       */

WI_INLINE uint32_t selu(uint32_t mask, uint32_t a, uint32_t b) {
    return (a & mask) | (b & ~mask);
}

WI_INLINE uint16_t to_f16(float f) {
    const uint32_t u = f2u(f);
    const uint32_t sign = (u >> 16) & 0x8000u;
    const uint32_t a = u & 0x7FFFFFFFu;
    /* normal half range: rebias the exponent by 127 - 15 and round at bit 13;
       beyond the largest half, infinity */
    uint32_t rn = (a - 0x38000000u + 0x0FFFu + ((a >> 13) & 1u)) >> 13;
    rn = selu(0u - (uint32_t)(rn > 0x7C00u), 0x7C00u, rn);
    /* subnormal half: k = round(x * 2**24), a variable shift of the mantissa */
    const uint32_t e = a >> 23;
    uint32_t sh = selu(0u - (uint32_t)(e < 113u), 126u - e, 14u); /* 14 .. 126 */
    sh = selu(0u - (uint32_t)(sh > 31u), 31u, sh);
    const uint32_t mant = (a & 0x007FFFFFu) | 0x00800000u;
    const uint32_t rs = (mant + ((1u << (sh - 1u)) - 1u) + ((mant >> sh) & 1u)) >> sh;
    /* inf and nan (numpy keeps the top payload bits, never a zero payload) */
    uint32_t rnan = 0x7C00u | ((a >> 13) & 0x03FFu);
    rnan = selu(0u - (uint32_t)(a > 0x7F800000u), rnan | (uint32_t)(rnan == 0x7C00u), 0x7C00u);
    uint32_t r = selu(0u - (uint32_t)(a >= 0x38800000u), rn, rs);
    r = selu(0u - (uint32_t)(a >= 0x7F800000u), rnan, r);
    return (uint16_t)(r | sign);
}

WI_INLINE uint16_t to_bf16(float f) {
    const uint32_t u = f2u(f);
    const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    const uint32_t qnan = ((u >> 16) & 0x8000u) | 0x7FC0u;
    return (uint16_t)selu(0u - (uint32_t)((u & 0x7FFFFFFFu) > 0x7F800000u), qnan, rounded);
}

/* ------------------------------------------------------------------------ */
/* float32 transforms                                                        */

/* -log(x) for 0 < x <= 1, x normal (reference: _special.log_neg, float32). */
WI_INLINE float log_neg_f32(float x) {
    const uint32_t u = f2u(x);
    const uint32_t mbits = (u & 0x007FFFFFu) | 0x3F000000u; /* frexp mantissa in [0.5, 1) */
    const int32_t small = u2f(mbits) < (float)SQRT_HALF;
    /* m * 2 (exact) by incrementing the exponent field, which cannot trap */
    const float m = u2f(mbits + ((uint32_t)small << 23));
    const int32_t e = (int32_t)(u >> 23) - 126 - small;
    const float f = m - 1.0f;
    const float s = f / (f + 2.0f);
    const float s2 = s * s;
    float p = (float)(1.0 / 11.0);
    p = p * s2;
    p = p + (float)(1.0 / 9.0);
    p = p * s2;
    p = p + (float)(1.0 / 7.0);
    p = p * s2;
    p = p + (float)(1.0 / 5.0);
    p = p * s2;
    p = p + (float)(1.0 / 3.0);
    const float two_s = s + s;
    const float log_m = two_s + two_s * (s2 * p);
    const float ef = (float)e;
    return -(ef * LN2_HI_F + (ef * LN2_LO_F + log_m));
}

/* Lane selects with bit masks (all ones or zero): the compiler keeps them as
   data flow, never as branches, so the loops stay vectorisable. */
WI_INLINE float self(uint32_t mask, float a, float b) {
    return u2f((f2u(a) & mask) | (f2u(b) & ~mask));
}
WI_INLINE double seld(uint64_t mask, double a, double b) {
    return u2d((d2u(a) & mask) | (d2u(b) & ~mask));
}

/* The same computation split for the compacted pipeline (see normal_block_f32). */
WI_INLINE float q_of_word_f32(uint32_t w, int truncated) {
    const int32_t m = (int32_t)(w >> 8);
    float q = (float)(m * 2 - 16777215) * 0x1p-25f; /* exact */
    if (truncated) q = q * (float)TRUNC_MASS;
    return q;
}

WI_INLINE float central_f32(float q) {
    const float rc = (float)0.180625 - q * q;
    float na = A7_3;
    na = na * rc; na = na + A7_2;
    na = na * rc; na = na + A7_1;
    na = na * rc; na = na + A7_0;
    float nb = B7_3;
    nb = nb * rc; nb = nb + B7_2;
    nb = nb * rc; nb = nb + B7_1;
    nb = nb * rc; nb = nb + B7_0;
    return (q * na) / nb;
}

WI_INLINE float tail_f32(float q, int full, uint32_t *far) {
    const float r = sqrtf(log_neg_f32(0.5f - fabsf(q)));
    const uint32_t near = full ? 0u - (uint32_t)(r <= 5.0f) : 0xFFFFFFFFu;
    *far |= (uint32_t)(r > 5.0f);
    const float x = r - self(near, (float)1.6, 5.0f);
    float nt = self(near, C7_3, E7_3);
    nt = nt * x; nt = nt + self(near, C7_2, E7_2);
    nt = nt * x; nt = nt + self(near, C7_1, E7_1);
    nt = nt * x; nt = nt + self(near, C7_0, E7_0);
    float dt = self(near, D7_2, F7_2);
    dt = dt * x; dt = dt + self(near, D7_1, F7_1);
    dt = dt * x; dt = dt + self(near, D7_0, F7_0);
    const float z = nt / dt;
    return u2f(f2u(z) ^ (f2u(q) & 0x80000000u)); /* np.where(q < 0, -z, z) */
}

WI_INLINE float finish_f32(float z, int truncated, float mean, float std) {
    if (truncated) {
        z = z < -2.0f ? -2.0f : z;
        z = z > 2.0f ? 2.0f : z;
    }
    z = z * std;
    z = z + mean;
    return z;
}

WI_INLINE float uniform_word_f32(uint32_t w, float low, float width, float below_high) {
    float u = (float)(int32_t)(w >> 8) * 0x1p-24f; /* exact */
    u = u * width;
    u = u + low;
    /* np.minimum(out, below_high): done before the narrowing cast, which is
       equivalent since rounding is monotone and below_high is representable */
    return u > below_high ? below_high : u;
}

/* ------------------------------------------------------------------------ */
/* float64 transforms                                                        */

WI_INLINE double log_neg_f64(double x) {
    const uint64_t u = d2u(x);
    const uint64_t mbits = (u & 0x000FFFFFFFFFFFFFull) | 0x3FE0000000000000ull;
    const int small = u2d(mbits) < SQRT_HALF;
    const double m = u2d(mbits + ((uint64_t)small << 52)); /* m * 2, exact */
    /* e = biased exponent - 1022 - small, converted exactly via 2**52 */
    const uint64_t ebits = (u >> 52) - (uint64_t)small;
    const double ef = u2d(0x4330000000000000ull | ebits) - (0x1p52 + 1022.0);
    const double f = m - 1.0;
    const double s = f / (f + 2.0);
    const double s2 = s * s;
    double p = 1.0 / 21.0;
    p = p * s2; p = p + 1.0 / 19.0;
    p = p * s2; p = p + 1.0 / 17.0;
    p = p * s2; p = p + 1.0 / 15.0;
    p = p * s2; p = p + 1.0 / 13.0;
    p = p * s2; p = p + 1.0 / 11.0;
    p = p * s2; p = p + 1.0 / 9.0;
    p = p * s2; p = p + 1.0 / 7.0;
    p = p * s2; p = p + 1.0 / 5.0;
    p = p * s2; p = p + 1.0 / 3.0;
    const double two_s = s + s;
    const double log_m = two_s + two_s * (s2 * p);
    return -(ef * LN2_HI_D + (ef * LN2_LO_D + log_m));
}

WI_INLINE double horner8(const double *c, double x) {
    double acc = c[7];
    for (int k = 6; k >= 0; k--) {
        acc = acc * x;
        acc = acc + c[k];
    }
    return acc;
}

WI_INLINE double horner8_sel(uint64_t first, const double *c, const double *e, double x) {
    double acc = seld(first, c[7], e[7]);
    for (int k = 6; k >= 0; k--) {
        acc = acc * x;
        acc = acc + seld(first, c[k], e[k]);
    }
    return acc;
}

WI_INLINE double q_of_words_f64(uint32_t x0, uint32_t x1, int truncated) {
    const uint64_t m = ((uint64_t)x0 << 20) | (uint64_t)(x1 >> 12); /* 52 bits */
    double q = u2d(0x4330000000000000ull | m) - (0x1p52 + 0x1p51);
    q = (q + 0.5) * 0x1p-52;
    if (truncated) q = q * TRUNC_MASS;
    return q;
}

WI_INLINE double central_f64(double q) {
    const double rc = 0.180625 - q * q;
    return (q * horner8(A16, rc)) / horner8(B16, rc);
}

WI_INLINE double tail_f64(double q, int full, uint32_t *far) {
    const double r = sqrt(log_neg_f64(0.5 - fabs(q)));
    const uint64_t near = full ? 0ull - (uint64_t)(r <= 5.0) : ~0ull;
    *far |= (uint32_t)(r > 5.0);
    const double x = r - seld(near, 1.6, 5.0);
    const double z = horner8_sel(near, C16, E16, x) / horner8_sel(near, D16, F16, x);
    return u2d(d2u(z) ^ (d2u(q) & 0x8000000000000000ull));
}

WI_INLINE double finish_f64(double z, int truncated, double mean, double std) {
    if (truncated) {
        z = z < -2.0 ? -2.0 : z;
        z = z > 2.0 ? 2.0 : z;
    }
    z = z * std;
    z = z + mean;
    return z;
}

WI_INLINE double uniform_words_f64(uint32_t x0, uint32_t x1, double low, double width,
                                   double below_high) {
    /* m53 * 2**-53 with m53 = (x0 << 21) | (x1 >> 11): both parts exact, so is the sum */
    const double hi = (u2d(0x4330000000000000ull | (uint64_t)x0) - 0x1p52) * 0x1p-32;
    const double lo = (u2d(0x4330000000000000ull | (uint64_t)(x1 >> 11)) - 0x1p52) * 0x1p-53;
    double u = hi + lo;
    u = u * width;
    u = u + low;
    return u > below_high ? below_high : u;
}

/* ------------------------------------------------------------------------ */
/* Jobs                                                                      */

/* A thread's scratch memory (about 31 KiB): on the heap, not the stack, so that a draw works
   from threads with small stacks (Python's threading.stack_size, musl's 128 KiB default,
   embedded interpreters). Defined below, once its members are. */
typedef struct workspace workspace_t;

typedef struct {
    int kind, dtype, isa;
    uint32_t k0, k1;
    char *out;
    uint64_t total;  /* output elements */
    uint64_t length; /* run length */
    uint64_t base;
    int nouter;
    uint64_t sizes[MAXD], offsets[MAXD], strides[MAXD];
    float f0, f1, fbh;
    double d0, d1, dbh;
    uint64_t next; /* next chunk to hand out (atomic) */
    /* test entry point: caller-given words instead of counters */
    const uint32_t *words;
    /* out[0] is output position pos0 (always 0 but in the strided scatter's chunks) */
    uint64_t pos0;
    /* strided destination (fill_strided): when dst is set, each chunk is made in a
       scratch buffer (out) and copied element by element to dst, whose element
       (c_0, .., c_{n-1}) of the region is at dst + sum(c_d * dstrides[d]) bytes */
    char *dst;
    int dnd;
    uint64_t dext[MAXD];
    int64_t dstrides[MAXD];
    char *scratch0; /* the calling thread's scratch (schunk elements) */
    uint64_t schunk; /* elements per chunk of the strided scatter */
    workspace_t *ws; /* this thread's scratch (each thread works on its own copy of the job) */
    void *shared;    /* the job whose `next` the threads share (a job_t *) */
} job_t;

typedef struct {
    uint32_t x0[BL + 2];
    uint32_t x1[BL + 2];
    uint32_t w[2 * BL + 4];
    uint64_t idx[BL];
} scratch_t;

/* Normal values of a block of lanes, compacted: the central branch (about 85 %
   of the lanes) runs on every lane; the lanes with |q| > 0.425 are then packed
   into a short array (float64: their indices only, the tail loads their q),
   the tail branch (log, sqrt, a second division) runs on it alone, and the
   results go back to their lanes. Each lane gets exactly the operations of the
   reference branch it belongs to. */
typedef struct {
    float q[BL], tq[BL + 16], tz[BL];
    double qd[BL], tzd[BL];
    int32_t ti[BL + 16]; /* the vector compactions store whole vectors: slack */
} normal_scratch_t;

struct workspace {
    scratch_t s;          /* Threefry lanes and gather indices of a range */
    normal_scratch_t ns;  /* the normal transforms' lanes */
    float tmp[BL];        /* float32 values before a narrowing cast */
};

static workspace_t *ws_alloc(void) {
#if defined(_WIN32)
    return (workspace_t *)_aligned_malloc(sizeof(workspace_t), 64);
#else
    void *p = NULL;
    return posix_memalign(&p, 64, sizeof(workspace_t)) == 0 ? (workspace_t *)p : NULL;
#endif
}

static void ws_free(workspace_t *ws) {
#if defined(_WIN32)
    _aligned_free(ws);
#else
    free(ws);
#endif
}

/* Pack the tail lanes (!(|q| <= 0.425)): their indices to ti (float32: their q
   to tq); returns how many. Portable versions; the vector ones are defined per ISA. */
typedef int (*compact32_fn)(const float *, int, int32_t *, float *);
typedef int (*compact64_fn)(const double *, int, int32_t *);

WI_INLINE int compact32_portable(const float *WI_RESTRICT q, int n, int32_t *WI_RESTRICT ti,
                                 float *WI_RESTRICT tq) {
    int k = 0;
    for (int j = 0; j < n; j++) {
        ti[k] = j;
        tq[k] = q[j];
        k += !(fabsf(q[j]) <= (float)0.425);
    }
    return k;
}

WI_INLINE int compact64_portable(const double *WI_RESTRICT q, int n, int32_t *WI_RESTRICT ti) {
    int k = 0;
    for (int j = 0; j < n; j++) {
        ti[k] = j;
        k += !(fabs(q[j]) <= 0.425);
    }
    return k;
}

/* The central branch of the quantile of every lane's q, finished (clamp, scale,
   shift), to dst: (qd, n, truncated, mean, std, dst) */
typedef void (*central64_fn)(const double *, int, int, double, double, double *);
/* q of the blocks (lo + k, hi), k < n, to qd, straight from the Threefry words:
   (n, lo, hi, k0, k1, truncated, qd, x0, x1), x0 and x1 scratch for the
   versions that make the words in a pass of their own. */
typedef void (*q64_run_fn)(int, uint32_t, uint32_t, uint32_t, uint32_t, int, double *, uint32_t *,
                           uint32_t *);
/* float64 uniform values of n lanes: (x0, x1, n, low, width, below_high, dst) */
typedef void (*uniform64_fn)(const uint32_t *, const uint32_t *, int, double, double, double,
                             double *);

WI_INLINE void uniform64_portable(const uint32_t *WI_RESTRICT x0, const uint32_t *WI_RESTRICT x1,
                                  int n, double low, double width, double below_high,
                                  double *WI_RESTRICT dst) {
    for (int j = 0; j < n; j++) dst[j] = uniform_words_f64(x0[j], x1[j], low, width, below_high);
}

/* What a uniform64_run_fn does (see below), in two passes: the words of the blocks to x0, x1,
   then the values. */
WI_INLINE void uniform64_run_portable(int n, uint32_t lo, uint32_t hi, uint32_t k0, uint32_t k1,
                                      double low, double width, double below_high,
                                      double *WI_RESTRICT dst, uint32_t *WI_RESTRICT x0,
                                      uint32_t *WI_RESTRICT x1) {
    threefry_run_portable(x0, x1, NULL, n, lo, hi, k0, k1);
    uniform64_portable(x0, x1, n, low, width, below_high, dst);
}
/* The near-tail branch (first pass) of the k packed tail lanes, whose q are
   qd[ti[t]]: (qd, ti, k, tz, far); sets *far if one is beyond. */
typedef void (*tail64_fn)(const double *, const int32_t *, int, double *, uint32_t *);

WI_INLINE void tail64_portable(const double *WI_RESTRICT qd, const int32_t *WI_RESTRICT ti, int k,
                               double *WI_RESTRICT tz, uint32_t *far) {
    for (int t = 0; t < k; t++) tz[t] = tail_f64(qd[ti[t]], 0, far);
}

WI_INLINE void q64_words_portable(const uint32_t *WI_RESTRICT x0, const uint32_t *WI_RESTRICT x1,
                                  int n, int truncated, double *WI_RESTRICT qd) {
    for (int j = 0; j < n; j++) qd[j] = q_of_words_f64(x0[j], x1[j], truncated);
}

/* What a q64_run_fn does, in two passes: the words of the blocks to x0, x1, then q. */
WI_INLINE void q64_run_portable(int n, uint32_t lo, uint32_t hi, uint32_t k0, uint32_t k1,
                                int truncated, double *WI_RESTRICT qd, uint32_t *WI_RESTRICT x0,
                                uint32_t *WI_RESTRICT x1) {
    threefry_run_portable(x0, x1, NULL, n, lo, hi, k0, k1);
    q64_words_portable(x0, x1, n, truncated, qd);
}

WI_INLINE void central64_portable(const double *WI_RESTRICT qd, int n, int truncated, double mean,
                                  double std, double *WI_RESTRICT dst) {
    for (int j = 0; j < n; j++) dst[j] = finish_f64(central_f64(qd[j]), truncated, mean, std);
}

WI_INLINE void normal_block_f32(const uint32_t *WI_RESTRICT w, int n, int truncated, float mean,
                                float std, float *WI_RESTRICT dst, normal_scratch_t *ns,
                                compact32_fn compact) {
    for (int j = 0; j < n; j++) {
        const float q = q_of_word_f32(w[j], truncated);
        ns->q[j] = q;
        dst[j] = central_f32(q);
    }
    const int k = compact(ns->q, n, ns->ti, ns->tq);
    uint32_t far = 0;
    for (int t = 0; t < k; t++) ns->tz[t] = tail_f32(ns->tq[t], 0, &far);
    if (far)
        for (int t = 0; t < k; t++) ns->tz[t] = tail_f32(ns->tq[t], 1, &far);
    for (int t = 0; t < k; t++) dst[ns->ti[t]] = ns->tz[t];
    for (int j = 0; j < n; j++) dst[j] = finish_f32(dst[j], truncated, mean, std);
}

/* float64 normal values of n lanes whose q are in ns->qd. */
WI_INLINE void normal_block_f64(int n, int truncated, double mean, double std,
                                double *WI_RESTRICT dst, normal_scratch_t *ns,
                                compact64_fn compact, central64_fn central, tail64_fn tail) {
    central(ns->qd, n, truncated, mean, std, dst); /* finished */
    const int k = compact(ns->qd, n, ns->ti);
    uint32_t far = 0;
    tail(ns->qd, ns->ti, k, ns->tzd, &far);
    if (far)
        for (int t = 0; t < k; t++) ns->tzd[t] = tail_f64(ns->qd[ns->ti[t]], 1, &far);
    for (int t = 0; t < k; t++) dst[ns->ti[t]] = finish_f64(ns->tzd[t], truncated, mean, std);
}

/* normal_block_f64 with the truncation flag a constant in each call. */
WI_INLINE void normal64_impl(const job_t *jb, int n, double *WI_RESTRICT dst, normal_scratch_t *ns,
                             compact64_fn c64, central64_fn cen64, tail64_fn tail64) {
    if (jb->kind == K_TRUNCATED)
        normal_block_f64(n, 1, jb->d0, jb->d1, dst, ns, c64, cen64, tail64);
    else
        normal_block_f64(n, 0, jb->d0, jb->d1, dst, ns, c64, cen64, tail64);
}

typedef void (*cvt16_fn)(const float *, uint16_t *, int);

/* float32 -> float16 for a block, portable version (the vector versions use the
   F16C instruction, which rounds the same way for every input the transforms
   can produce: all but signalling NaNs). */
WI_INLINE void cvt16_portable(const float *WI_RESTRICT src, uint16_t *WI_RESTRICT dst, int n) {
    for (int j = 0; j < n; j++) dst[j] = to_f16(src[j]);
}

/* float32 -> bfloat16 for a block, portable version. */
WI_INLINE void cvtbf_portable(const float *WI_RESTRICT src, uint16_t *WI_RESTRICT dst, int n) {
    for (int j = 0; j < n; j++) dst[j] = to_bf16(src[j]);
}

/* Transform n lanes and store them at dst (already offset to the first one).
   float32 work: words w[0 .. n); float64 work: the pairs (w[j], x1[j]). */
WI_INLINE void emit_impl(const job_t *jb, const uint32_t *WI_RESTRICT w,
                         const uint32_t *WI_RESTRICT x1, int n, char *dst, cvt16_fn cvt16,
                         cvt16_fn cvtbf, compact32_fn c32, compact64_fn c64,
                         central64_fn cen64, tail64_fn tail64, uniform64_fn uni64) {
    normal_scratch_t *const ns = &jb->ws->ns;
    float *const tmp = jb->ws->tmp;
    const float f0 = jb->f0, f1 = jb->f1, fbh = jb->fbh;
    const double d0 = jb->d0, d1 = jb->d1, dbh = jb->dbh;
    const int truncated = jb->kind == K_TRUNCATED;
    /* results go straight to the output, or through a lane buffer when they
       need a narrowing cast */
    float *WI_RESTRICT vf = jb->dtype == D_F32 ? (float *)dst : tmp;
    double *WI_RESTRICT od = (double *)dst;
    uint16_t *WI_RESTRICT oh = (uint16_t *)dst;
    if (jb->dtype == D_F64) {
        if (jb->kind == K_UNIFORM) {
            uni64(w, x1, n, d0, d1, dbh, od);
        } else {
            q64_words_portable(w, x1, n, truncated, ns->qd);
            normal64_impl(jb, n, od, ns, c64, cen64, tail64);
        }
        return;
    }
    if (jb->kind == K_UNIFORM)
        for (int j = 0; j < n; j++) vf[j] = uniform_word_f32(w[j], f0, f1, fbh);
    else if (truncated)
        normal_block_f32(w, n, 1, f0, f1, vf, ns, c32);
    else
        normal_block_f32(w, n, 0, f0, f1, vf, ns, c32);
    if (jb->dtype == D_F32) return;
    /* narrowing casts in their own loops (fused ones spill registers) */
    if (jb->dtype == D_F16) cvt16(tmp, oh, n);
    if (jb->dtype == D_BF16) cvtbf(tmp, oh, n);
}

typedef void (*emit_fn)(const job_t *, const uint32_t *, const uint32_t *, int, char *);
typedef void (*threefry_fn)(uint32_t *, uint32_t *, int, uint32_t, uint32_t);
typedef void (*tf_run_fn)(uint32_t *, uint32_t *, uint32_t *, int, uint32_t, uint32_t, uint32_t,
                          uint32_t);
/* float64 uniform values of the blocks (lo + k, hi), k < n, straight from the
   Threefry words: (n, lo, hi, k0, k1, low, width, below_high, dst, x0, x1), x0
   and x1 scratch for the versions that make the words in a pass of their own. */
typedef void (*uniform64_run_fn)(int, uint32_t, uint32_t, uint32_t, uint32_t, double, double, double,
                                 double *, uint32_t *, uint32_t *);
/* float64 normal values of the blocks (lo + k, hi), k < n: (jb, n, lo, hi, x0, x1, dst) */
typedef void (*normal64_run_fn)(const job_t *, int, uint32_t, uint32_t, uint32_t *, uint32_t *,
                                double *);

WI_INLINE size_t itemsize_of(int dtype) {
    return dtype == D_F64 ? 8 : (dtype == D_F32 ? 4 : 2);
}

/* Consecutive flat indices i .. i + n - 1 to out position pos. */
WI_INLINE void gen_contig(const job_t *jb, scratch_t *s, uint64_t i, uint64_t n, uint64_t pos,
                          tf_run_fn run, uniform64_run_fn uni_run, normal64_run_fn nrm_run,
                          emit_fn em) {
    const size_t isz = itemsize_of(jb->dtype);
    const int wide = jb->dtype == D_F64;
    while (n > 0) {
        int cnt = n > BL ? BL : (int)n;
        if (wide) {
            /* keep the high counter word constant within a block */
            const uint64_t room = 0x100000000ull - (i & 0xFFFFFFFFull);
            if ((uint64_t)cnt > room) cnt = (int)room;
            if (jb->kind == K_UNIFORM) {
                uni_run(cnt, (uint32_t)i, (uint32_t)(i >> 32), jb->k0, jb->k1, jb->d0, jb->d1, jb->dbh,
                        (double *)(jb->out + (pos - jb->pos0) * isz), s->x0, s->x1);
            } else {
                nrm_run(jb, cnt, (uint32_t)i, (uint32_t)(i >> 32), s->x0, s->x1,
                        (double *)(jb->out + (pos - jb->pos0) * isz));
            }
        } else {
            const uint64_t b0 = i >> 1;
            const uint64_t room = 0x100000000ull - (b0 & 0xFFFFFFFFull);
            const int off = (int)(i & 1u);
            if ((uint64_t)cnt + (uint64_t)off > 2 * room) cnt = (int)(2 * room - (uint64_t)off);
            const int nb = (int)(((i + (uint64_t)cnt - 1) >> 1) - b0) + 1;
            run(s->x0, s->x1, s->w, nb, (uint32_t)b0, (uint32_t)(b0 >> 32), jb->k0, jb->k1);
            em(jb, s->w + off, NULL, cnt, jb->out + (pos - jb->pos0) * isz);
        }
        i += (uint64_t)cnt;
        pos += (uint64_t)cnt;
        n -= (uint64_t)cnt;
    }
}

/* Arbitrary flat indices s->idx[0 .. n) to out position pos. */
WI_INLINE void gen_gather(const job_t *jb, scratch_t *s, int n, uint64_t pos, threefry_fn tf,
                          emit_fn em) {
    const size_t isz = itemsize_of(jb->dtype);
    if (jb->dtype == D_F64) {
        for (int k = 0; k < n; k++) {
            s->x0[k] = (uint32_t)s->idx[k];
            s->x1[k] = (uint32_t)(s->idx[k] >> 32);
        }
        tf(s->x0, s->x1, n, jb->k0, jb->k1);
        em(jb, s->x0, s->x1, n, jb->out + (pos - jb->pos0) * isz);
    } else {
        for (int k = 0; k < n; k++) {
            const uint64_t b = s->idx[k] >> 1;
            s->x0[k] = (uint32_t)b;
            s->x1[k] = (uint32_t)(b >> 32);
        }
        tf(s->x0, s->x1, n, jb->k0, jb->k1);
        for (int k = 0; k < n; k++) s->w[k] = (s->idx[k] & 1u) ? s->x1[k] : s->x0[k];
        em(jb, s->w, NULL, n, jb->out + (pos - jb->pos0) * isz);
    }
}

/* Runs shorter than this are generated through index gathers. */
#define GATHER_BELOW 64

/* Output positions [p, pend). */
WI_INLINE void work_range_impl(const job_t *jb, uint64_t p, uint64_t pend, threefry_fn tf,
                               tf_run_fn run, uniform64_run_fn uni_run, normal64_run_fn nrm_run,
                               emit_fn em) {
    scratch_t *const s = &jb->ws->s;
    const uint64_t L = jb->length;
    const int nd = jb->nouter;
    uint64_t coords[MAXD];
    uint64_t r = p / L, off = p % L;
    uint64_t start = jb->base;
    for (int d = nd - 1; d >= 0; d--) {
        coords[d] = r % jb->sizes[d];
        r /= jb->sizes[d];
        start += (coords[d] + jb->offsets[d]) * jb->strides[d];
    }
#define NEXT_RUN()                                              \
    do {                                                        \
        for (int d = nd - 1; d >= 0; d--) {                     \
            start += jb->strides[d];                            \
            if (++coords[d] < jb->sizes[d]) break;              \
            start -= jb->sizes[d] * jb->strides[d];             \
            coords[d] = 0;                                      \
        }                                                       \
    } while (0)
    if (L >= GATHER_BELOW) {
        while (p < pend) {
            uint64_t seg = L - off;
            if (seg > pend - p) seg = pend - p;
            gen_contig(jb, s, start + off, seg, p, run, uni_run, nrm_run, em);
            p += seg;
            off += seg;
            if (off == L) {
                off = 0;
                NEXT_RUN();
            }
        }
    } else {
        uint64_t out0 = p;
        int k = 0;
        while (p < pend) {
            s->idx[k++] = start + off;
            p++;
            if (++off == L) {
                off = 0;
                NEXT_RUN();
            }
            if (k == BL || p == pend) {
                gen_gather(jb, s, k, out0, tf, em);
                out0 = p;
                k = 0;
            }
        }
    }
#undef NEXT_RUN
}

/* Test entry point: positions [p, pend) of caller-given words. */
WI_INLINE void words_range_impl(const job_t *jb, uint64_t p, uint64_t pend, emit_fn em) {
    scratch_t *const s = &jb->ws->s;
    const size_t isz = itemsize_of(jb->dtype);
    while (p < pend) {
        const int cnt = pend - p > BL ? BL : (int)(pend - p);
        if (jb->dtype == D_F64) {
            for (int k = 0; k < cnt; k++) {
                s->x0[k] = jb->words[2 * (p + (uint64_t)k)];
                s->x1[k] = jb->words[2 * (p + (uint64_t)k) + 1];
            }
            em(jb, s->x0, s->x1, cnt, jb->out + p * isz);
        } else {
            em(jb, jb->words + p, NULL, cnt, jb->out + p * isz);
        }
        p += (uint64_t)cnt;
    }
}

/* One copy of the loops per instruction set. */
#define DEFINE_ISA(SUFFIX, ATTR)                                                              \
    ATTR static void emit_##SUFFIX(const job_t *jb, const uint32_t *w, const uint32_t *x1,    \
                                   int n, char *dst) {                                        \
        emit_impl(jb, w, x1, n, dst, cvt16_##SUFFIX, cvtbf_##SUFFIX, compact32_##SUFFIX,        \
                  compact64_##SUFFIX, central64_##SUFFIX, tail64_##SUFFIX, uniform64_##SUFFIX); \
    }                                                                                          \
    ATTR static void normal64_run_##SUFFIX(const job_t *jb, int n, uint32_t lo, uint32_t hi,      \
                                           uint32_t *x0, uint32_t *x1, double *dst) {           \
        normal_scratch_t *const ns = &jb->ws->ns;                                             \
        q64_run_##SUFFIX(n, lo, hi, jb->k0, jb->k1, jb->kind == K_TRUNCATED, ns->qd, x0, x1);   \
        normal64_impl(jb, n, dst, ns, compact64_##SUFFIX, central64_##SUFFIX, tail64_##SUFFIX);   \
    }                                                                                          \
    ATTR static void work_range_##SUFFIX(const job_t *jb, uint64_t p, uint64_t pend) {         \
        if (jb->words)                                                                         \
            words_range_impl(jb, p, pend, emit_##SUFFIX);                                      \
        else                                                                                   \
            work_range_impl(jb, p, pend, threefry_##SUFFIX, threefry_run_##SUFFIX,             \
                            uniform64_run_##SUFFIX, normal64_run_##SUFFIX, emit_##SUFFIX);     \
    }

static void threefry_default(uint32_t *x0, uint32_t *x1, int n, uint32_t k0, uint32_t k1) {
    threefry_lanes(x0, x1, n, k0, k1);
}
static void threefry_run_default(uint32_t *x0, uint32_t *x1, uint32_t *w, int n, uint32_t lo,
                                 uint32_t hi, uint32_t k0, uint32_t k1) {
    threefry_run_portable(x0, x1, w, n, lo, hi, k0, k1);
}
static void uniform64_run_default(int n, uint32_t lo, uint32_t hi, uint32_t k0, uint32_t k1,
                                  double low, double width, double below_high, double *dst,
                                  uint32_t *x0, uint32_t *x1) {
    uniform64_run_portable(n, lo, hi, k0, k1, low, width, below_high, dst, x0, x1);
}
static void cvt16_default(const float *src, uint16_t *dst, int n) { cvt16_portable(src, dst, n); }
static void cvtbf_default(const float *src, uint16_t *dst, int n) { cvtbf_portable(src, dst, n); }
static void uniform64_default(const uint32_t *x0, const uint32_t *x1, int n, double low,
                              double width, double below_high, double *dst) {
    uniform64_portable(x0, x1, n, low, width, below_high, dst);
}
static void tail64_default(const double *qd, const int32_t *ti, int k, double *tz, uint32_t *far) {
    tail64_portable(qd, ti, k, tz, far);
}
static void central64_default(const double *qd, int n, int truncated, double mean, double std,
                              double *dst) {
    central64_portable(qd, n, truncated, mean, std, dst);
}
static void q64_run_default(int n, uint32_t lo, uint32_t hi, uint32_t k0, uint32_t k1,
                            int truncated, double *qd, uint32_t *x0, uint32_t *x1) {
    q64_run_portable(n, lo, hi, k0, k1, truncated, qd, x0, x1);
}
static int compact32_default(const float *q, int n, int32_t *ti, float *tq) {
    return compact32_portable(q, n, ti, tq);
}
static int compact64_default(const double *q, int n, int32_t *ti) {
    return compact64_portable(q, n, ti);
}
DEFINE_ISA(default, )
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

static void init_perms(void) {
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

/* AVX-512 compaction: compress into a register, store the whole vector. */
WI_ATTR_AVX512 static int compact32_avx512(const float *q, int n, int32_t *ti, float *tq) {
    const __m512 lim = _mm512_set1_ps((float)0.425);
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
    __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i step = _mm512_set1_epi32(16);
    int k = 0, j = 0;
    for (; j + 16 <= n; j += 16) {
        const __m512 v = _mm512_loadu_ps(q + j);
        const __mmask16 m = _mm512_cmp_ps_mask(_mm512_and_ps(v, absmask), lim, _CMP_NLE_UQ);
        _mm512_storeu_ps(tq + k, _mm512_maskz_compress_ps(m, v));
        _mm512_storeu_si512((void *)(ti + k), _mm512_maskz_compress_epi32(m, idx));
        k += __builtin_popcount((unsigned)m);
        idx = _mm512_add_epi32(idx, step);
    }
    for (; j < n; j++) {
        ti[k] = j;
        tq[k] = q[j];
        k += !(fabsf(q[j]) <= (float)0.425);
    }
    return k;
}

WI_ATTR_AVX512 static int compact64_avx512(const double *q, int n, int32_t *ti) {
    const __m512d lim = _mm512_set1_pd(0.425);
    const __m512d absmask = _mm512_castsi512_pd(_mm512_set1_epi64(0x7FFFFFFFFFFFFFFFll));
    __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i step = _mm256_set1_epi32(8);
    int k = 0, j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m512d v = _mm512_loadu_pd(q + j);
        const __mmask8 m = _mm512_cmp_pd_mask(_mm512_and_pd(v, absmask), lim, _CMP_NLE_UQ);
        _mm256_storeu_si256((__m256i *)(ti + k), _mm256_maskz_compress_epi32(m, idx));
        k += __builtin_popcount((unsigned)m);
        idx = _mm256_add_epi32(idx, step);
    }
    for (; j < n; j++) {
        ti[k] = j;
        k += !(fabs(q[j]) <= 0.425);
    }
    return k;
}

WI_ATTR_AVX512 static void cvt16_avx512(const float *src, uint16_t *dst, int n) {
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(src + j),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(dst + j), h);
    }
    for (; j < n; j++) dst[j] = to_f16(src[j]);
}
WI_ATTR_AVX512 static void cvtbf_avx512(const float *src, uint16_t *dst, int n) {
    cvtbf_portable(src, dst, n); /* vectorised by the compiler (vpmovdw) */
}
WI_ATTR_AVX512 static void uniform64_avx512(const uint32_t *x0, const uint32_t *x1, int n,
                                            double low, double width, double below_high,
                                            double *dst) {
    uniform64_portable(x0, x1, n, low, width, below_high, dst);
}
WI_ATTR_AVX512 static void tail64_avx512(const double *qd, const int32_t *ti, int k, double *tz,
                                         uint32_t *far) {
    tail64_portable(qd, ti, k, tz, far);
}
WI_ATTR_AVX512 static void central64_avx512(const double *qd, int n, int truncated, double mean,
                                            double std, double *dst) {
    central64_portable(qd, n, truncated, mean, std, dst);
}
WI_ATTR_AVX512 static void q64_run_avx512(int n, uint32_t lo, uint32_t hi, uint32_t k0,
                                          uint32_t k1, int truncated, double *qd, uint32_t *x0,
                                          uint32_t *x1) {
    q64_run_portable(n, lo, hi, k0, k1, truncated, qd, x0, x1);
}
WI_ATTR_AVX512 static void threefry_avx512(uint32_t *x0, uint32_t *x1, int n, uint32_t k0,
                                           uint32_t k1) {
    threefry_lanes(x0, x1, n, k0, k1); /* vectorised by the compiler, with vprold */
}
WI_ATTR_AVX512 static void threefry_run_avx512(uint32_t *x0, uint32_t *x1, uint32_t *w, int n,
                                               uint32_t lo, uint32_t hi, uint32_t k0, uint32_t k1) {
    threefry_run_portable(x0, x1, w, n, lo, hi, k0, k1);
}
WI_ATTR_AVX512 static void uniform64_run_avx512(int n, uint32_t lo, uint32_t hi, uint32_t k0,
                                                uint32_t k1, double low, double width,
                                                double below_high, double *dst, uint32_t *x0,
                                                uint32_t *x1) {
    uniform64_run_portable(n, lo, hi, k0, k1, low, width, below_high, dst, x0, x1);
}
DEFINE_ISA(avx2, WI_ATTR_AVX2)
DEFINE_ISA(avx512, WI_ATTR_AVX512)
#endif

typedef void (*range_fn)(const job_t *, uint64_t, uint64_t);
static range_fn RANGE_FNS[ISA_COUNT];
static threefry_fn THREEFRY_FNS[ISA_COUNT];
static const char *ISA_NAMES[ISA_COUNT] = {"default", "avx2", "avx512"};
static int isa_supported[ISA_COUNT];
static int best_isa = ISA_DEFAULT;

static void init_isas(void) {
    RANGE_FNS[ISA_DEFAULT] = work_range_default;
    THREEFRY_FNS[ISA_DEFAULT] = threefry_default;
    isa_supported[ISA_DEFAULT] = 1;
#if WI_MULTIVERSION
    RANGE_FNS[ISA_AVX2] = work_range_avx2;
    THREEFRY_FNS[ISA_AVX2] = threefry_avx2;
    RANGE_FNS[ISA_AVX512] = work_range_avx512;
    THREEFRY_FNS[ISA_AVX512] = threefry_avx512;
    __builtin_cpu_init();
    init_perms();
    const int f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("popcnt");
    isa_supported[ISA_AVX2] = (__builtin_cpu_supports("avx2") && f16c) ? 1 : 0;
    isa_supported[ISA_AVX512] =
        (f16c && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
            ? 1
            : 0;
#endif
    for (int i = 0; i < ISA_COUNT; i++)
        if (isa_supported[i]) best_isa = i;
}

static void scatter_plain(const job_t *jb, const char *src, uint64_t p, uint64_t e);

/* Elements [0, n) of src to dst + j * st, for items of isz bytes. */
WI_INLINE void copy_strided(char *d, int64_t st, const char *src, uint64_t n, size_t isz) {
    if ((int64_t)isz == st) {
        memcpy(d, src, n * isz);
    } else if (isz == 4) {
        for (uint64_t j = 0; j < n; j++) memcpy(d + (int64_t)j * st, src + 4 * j, 4);
    } else if (isz == 8) {
        for (uint64_t j = 0; j < n; j++) memcpy(d + (int64_t)j * st, src + 8 * j, 8);
    } else {
        for (uint64_t j = 0; j < n; j++) memcpy(d + (int64_t)j * st, src + 2 * j, 2);
    }
}

/* Rows per group of the blocked scatter (see scatter). */
#define SCATTER_GROUP 64
#define SCATTER_ROWS (SCATTER_CHUNK / SCATTER_GROUP + 2)

/* Copy output positions [p, e) (row-major in the region dext), made in src,
   to their places in the strided destination. The positions are rows of the
   last axis. When the destination's last-axis stride is large (a transposing
   destination: a Keras (in, out) matrix into torch's (out, in) memory), the
   copy goes by tiles of SCATTER_GROUP rows and one cache line of columns: the
   tile is read from src a line per row into a small buffer, then written
   column by column, each column being consecutive rows. Power-of-two strides
   would otherwise map every row of a tile to the same cache set. */
static void scatter(const job_t *jb, const char *src, uint64_t p, uint64_t e) {
    const int nd = jb->dnd;
    const size_t isz = itemsize_of(jb->dtype);
    const uint64_t L = nd ? jb->dext[nd - 1] : 1;
    const int64_t st = nd ? jb->dstrides[nd - 1] : 0;
    const uint64_t C = 64 / isz; /* columns per tile: one cache line of src */
    if (nd == 0 || L < SCATTER_GROUP || st == (int64_t)isz || (e - p) / L + 2 > SCATTER_ROWS) {
        scatter_plain(jb, src, p, e);
        return;
    }
    /* partial first and last rows element by element; the full rows in between by tiles */
    if (p % L) {
        const uint64_t stop = (p / L + 1) * L < e ? (p / L + 1) * L : e;
        scatter_plain(jb, src, p, stop);
        src += (stop - p) * isz;
        p = stop;
    }
    if (e % L && e > p) {
        const uint64_t start = e / L * L > p ? e / L * L : p;
        scatter_plain(jb, src + (start - p) * isz, start, e);
        e = start;
    }
    if (p >= e) return;
    char *rows[SCATTER_ROWS];
    const uint64_t r0 = p / L, r1 = (e - 1) / L; /* first and last row, inclusive */
    const uint64_t nrows = r1 - r0 + 1;
    {
        uint64_t idx[MAXD];
        char *d = jb->dst;
        uint64_t r = r0;
        for (int k = nd - 2; k >= 0; k--) {
            idx[k] = r % jb->dext[k];
            r /= jb->dext[k];
            d += (int64_t)idx[k] * jb->dstrides[k];
        }
        for (uint64_t k = 0; k < nrows; k++) {
            rows[k] = d;
            for (int a = nd - 2; a >= 0; a--) {
                d += jb->dstrides[a];
                if (++idx[a] < jb->dext[a]) break;
                d -= (int64_t)jb->dext[a] * jb->dstrides[a];
                idx[a] = 0;
            }
        }
    }
    const uint64_t first_lo = p % L, last_hi = (e - 1) % L + 1;
    WI_ALIGN64 char tile[SCATTER_GROUP * 64];
    for (uint64_t g = 0; g < nrows; g += SCATTER_GROUP) {
        const uint64_t gn = nrows - g < SCATTER_GROUP ? nrows - g : SCATTER_GROUP;
        int dense = 1; /* the group's rows follow each other in dst */
        for (uint64_t k = 1; k < gn && dense; k++) dense = rows[g + k] == rows[g] + k * isz;
        for (uint64_t cb = 0; cb < L; cb += C) {
            const uint64_t ce = cb + C < L ? cb + C : L;
            if (dense && (g > 0 || first_lo <= cb) && (g + gn < nrows || last_hi >= ce)) {
                /* the whole tile, rows consecutive in dst: transpose in the buffer */
                const uint64_t w = ce - cb;
                const char *s0 = src + ((r0 + g) * L + cb - p) * isz;
#if defined(__SSE2__)
                if (isz == 4 && gn % 4 == 0 && w % 4 == 0) {
                    /* 4 x 4 blocks transposed in registers */
                    float *t = (float *)tile;
                    for (uint64_t k = 0; k < gn; k += 4) {
                        const float *r0 = (const float *)(s0 + k * L * isz);
                        const float *r1 = r0 + L, *r2 = r1 + L, *r3 = r2 + L;
                        for (uint64_t j = 0; j < w; j += 4) {
                            __m128 a = _mm_loadu_ps(r0 + j), b = _mm_loadu_ps(r1 + j);
                            __m128 c = _mm_loadu_ps(r2 + j), d = _mm_loadu_ps(r3 + j);
                            _MM_TRANSPOSE4_PS(a, b, c, d);
                            _mm_store_ps(t + (j + 0) * SCATTER_GROUP + k, a);
                            _mm_store_ps(t + (j + 1) * SCATTER_GROUP + k, b);
                            _mm_store_ps(t + (j + 2) * SCATTER_GROUP + k, c);
                            _mm_store_ps(t + (j + 3) * SCATTER_GROUP + k, d);
                        }
                    }
                } else
#endif
                if (isz == 4) {
                    uint32_t *t = (uint32_t *)tile;
                    for (uint64_t k = 0; k < gn; k++) {
                        const uint32_t *sr = (const uint32_t *)(s0 + k * L * isz);
                        for (uint64_t j = 0; j < w; j++) t[j * SCATTER_GROUP + k] = sr[j];
                    }
                } else if (isz == 8) {
                    uint64_t *t = (uint64_t *)tile;
                    for (uint64_t k = 0; k < gn; k++) {
                        const uint64_t *sr = (const uint64_t *)(s0 + k * L * isz);
                        for (uint64_t j = 0; j < w; j++) t[j * SCATTER_GROUP + k] = sr[j];
                    }
                } else {
                    uint16_t *t = (uint16_t *)tile;
                    for (uint64_t k = 0; k < gn; k++) {
                        const uint16_t *sr = (const uint16_t *)(s0 + k * L * isz);
                        for (uint64_t j = 0; j < w; j++) t[j * SCATTER_GROUP + k] = sr[j];
                    }
                }
                for (uint64_t j = 0; j < w; j++) {
                    char *d = rows[g] + (int64_t)(cb + j) * st;
                    const char *t = tile + j * SCATTER_GROUP * isz;
#if defined(__SSE2__)
                    if (gn * isz % 64 == 0 && ((uintptr_t)d & 63) == 0) {
                        /* whole cache lines: stream them (no read for ownership, no
                           eviction of the scratch); scatter_fence orders them */
                        for (uint64_t b = 0; b < gn * isz; b += 16)
                            _mm_stream_si128((__m128i *)(d + b), _mm_load_si128((const __m128i *)(t + b)));
                        continue;
                    }
#endif
                    memcpy(d, t, gn * isz);
                }
                continue;
            }
            uint64_t lo[SCATTER_GROUP], hi[SCATTER_GROUP];
            for (uint64_t k = 0; k < gn; k++) {
                const uint64_t row = g + k;
                lo[k] = (row == 0 && first_lo > cb) ? first_lo : cb;
                hi[k] = (row == nrows - 1 && last_hi < ce) ? last_hi : ce;
                if (lo[k] < hi[k]) {
                    const uint64_t pos = (r0 + row) * L + lo[k]; /* at src + (pos - p) */
                    memcpy(tile + k * 64 + (lo[k] - cb) * isz, src + (pos - p) * isz,
                           (hi[k] - lo[k]) * isz);
                }
            }
            for (uint64_t j = cb; j < ce; j++) {
                for (uint64_t k = 0; k < gn; k++) {
                    if (j < lo[k] || j >= hi[k]) continue;
                    memcpy(rows[g + k] + (int64_t)j * st, tile + k * 64 + (j - cb) * isz, isz);
                }
            }
        }
    }
}

/* scatter, element by element along the last axis (short rows, contiguous rows). */
static void scatter_plain(const job_t *jb, const char *src, uint64_t p, uint64_t e) {
    const int nd = jb->dnd;
    const size_t isz = itemsize_of(jb->dtype);
    uint64_t idx[MAXD];
    char *d = jb->dst;
    uint64_t r = p;
    for (int k = nd - 1; k >= 0; k--) {
        idx[k] = r % jb->dext[k];
        r /= jb->dext[k];
        d += (int64_t)idx[k] * jb->dstrides[k];
    }
    const uint64_t inner = nd ? jb->dext[nd - 1] : 1;
    const int64_t st = nd ? jb->dstrides[nd - 1] : 0;
    while (p < e) {
        uint64_t cnt = inner - (nd ? idx[nd - 1] : 0);
        if (cnt > e - p) cnt = e - p;
        copy_strided(d, st, src, cnt, isz);
        src += cnt * isz;
        p += cnt;
        if (nd == 0) break;
        idx[nd - 1] += cnt;
        d += (int64_t)cnt * st;
        if (idx[nd - 1] == inner) {
            d -= (int64_t)inner * st;
            idx[nd - 1] = 0;
            for (int k = nd - 2; k >= 0; k--) {
                d += jb->dstrides[k];
                if (++idx[k] < jb->dext[k]) break;
                d -= (int64_t)jb->dext[k] * jb->dstrides[k];
                idx[k] = 0;
            }
        }
    }
}

/* The strided scatter: chunks are made in a scratch buffer (the caller's, or
   one this thread allocates; a helper thread that cannot allocate leaves the
   chunks to the others), then copied to the destination. */
/* `jb` is this thread's copy of the job (its own workspace); the chunks are handed out from
   the shared one. */
static void run_chunks_scatter(const job_t *jb, int caller) {
    job_t *shared = (job_t *)jb->shared;
    const range_fn fn = RANGE_FNS[jb->isa];
    char *buf = caller ? jb->scratch0 : (char *)malloc((size_t)jb->schunk * itemsize_of(jb->dtype));
    job_t *local = caller ? NULL : (job_t *)malloc(sizeof(job_t));
    job_t own;
    if (caller) local = &own;
    if (!buf || !local) {
        if (!caller) {
            free(buf);
            free(local);
        }
        return;
    }
    memcpy(local, jb, sizeof(job_t));
    local->dst = NULL;
    local->out = buf;
    for (;;) {
        const uint64_t p = WI_ATOMIC_FETCH_ADD(&shared->next, jb->schunk);
        if (p >= jb->total) break;
        const uint64_t e = jb->total - p > jb->schunk ? p + jb->schunk : jb->total;
        local->pos0 = p;
        fn(local, p, e);
        scatter(jb, buf, p, e);
    }
#if defined(__SSE2__)
    _mm_sfence(); /* the streamed stores are visible before the thread is joined */
#endif
    if (!caller) {
        free(buf);
        free(local);
    }
}

static void run_chunks_as(const job_t *jb, int caller) {
    job_t *shared = (job_t *)jb->shared;
    const range_fn fn = RANGE_FNS[jb->isa];
    if (jb->dst) {
        run_chunks_scatter(jb, caller);
        return;
    }
    for (;;) {
        const uint64_t p = WI_ATOMIC_FETCH_ADD(&shared->next, (uint64_t)CHUNK);
        if (p >= jb->total) break;
        const uint64_t e = jb->total - p > CHUNK ? p + CHUNK : jb->total;
        fn(jb, p, e);
    }
}

#if WI_THREADS
static void *thread_main(void *arg) {
    run_chunks_as((const job_t *)arg, 0);
    return NULL;
}

/* A worker's copy of the job with a workspace of its own (NULL when memory is short: the
   threads that did start, the calling one at least, take every chunk). */
static job_t *worker_job(const job_t *jb) {
    job_t *local = (job_t *)malloc(sizeof(job_t));
    workspace_t *ws = ws_alloc();
    if (!local || !ws) {
        free(local);
        ws_free(ws);
        return NULL;
    }
    memcpy(local, jb, sizeof(job_t));
    local->ws = ws;
    return local;
}
#endif

/* Runs the job on `threads` threads (the calling one included), GIL released. Every thread
   works on its own copy of the job, made before any thread starts, with its own workspace.
   Returns -1 with MemoryError set when the calling thread's workspace cannot be had. */
static int run_job(job_t *jb, int threads) {
    const uint64_t size = jb->dst ? jb->schunk : CHUNK;
    const uint64_t chunks = (jb->total + size - 1) / size;
    workspace_t *ws = ws_alloc();
    if (!ws) {
        PyErr_NoMemory();
        return -1;
    }
    if (threads < 1) threads = 1;
    if ((uint64_t)threads > chunks) threads = (int)chunks;
    jb->next = 0;
    jb->ws = ws;
    jb->shared = jb;
    Py_BEGIN_ALLOW_THREADS
#if WI_THREADS
    if (threads > 1) {
        pthread_t tids[256];
        job_t *locals[256];
        int started = 0;
        if (threads > 256) threads = 256;
        for (int t = 1; t < threads; t++) {
            job_t *local = worker_job(jb);
            if (!local) break;
            if (pthread_create(&tids[started], NULL, thread_main, local) == 0) {
                locals[started++] = local;
            } else {
                ws_free(local->ws);
                free(local);
            }
        }
        run_chunks_as(jb, 1);
        for (int t = 0; t < started; t++) {
            pthread_join(tids[t], NULL);
            ws_free(locals[t]->ws);
            free(locals[t]);
        }
    } else {
        run_chunks_as(jb, 1);
    }
#else
    run_chunks_as(jb, 1);
#endif
    Py_END_ALLOW_THREADS
    jb->ws = NULL;
    ws_free(ws);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Python interface                                                          */

static int parse_isa(int isa) {
    if (isa < 0) return best_isa;
    if (isa >= ISA_COUNT || !isa_supported[isa]) {
        PyErr_Format(PyExc_ValueError, "instruction set %d is not supported here", isa);
        return -1;
    }
    return isa;
}

static int check_kind_dtype(int kind, int dtype) {
    if (kind < K_UNIFORM || kind > K_TRUNCATED || dtype < D_F32 || dtype > D_BF16) {
        PyErr_SetString(PyExc_ValueError, "unknown kind or dtype code");
        return -1;
    }
    return 0;
}

static void set_params(job_t *jb, double p0, double p1, double bh) {
    jb->d0 = p0;
    jb->d1 = p1;
    jb->dbh = bh;
    jb->f0 = (float)p0;
    jb->f1 = (float)p1;
    jb->fbh = (float)bh;
}

static int parse_u64_tuple(PyObject *seq, uint64_t *dst, Py_ssize_t n, const char *what) {
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(seq, i);
        unsigned long long v = PyLong_AsUnsignedLongLong(item);
        if (v == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Format(PyExc_ValueError, "%s must be non-negative ints below 2**64", what);
            return -1;
        }
        dst[i] = (uint64_t)v;
    }
    return 0;
}

PyDoc_STRVAR(fill_doc,
             "fill(kind, dtype, k0, k1, out, length, base, sizes, offsets, strides, p0, p1, bh, "
             "threads, isa)\n\n"
             "Fill the writable contiguous buffer ``out`` with the values of the runs of a region:\n"
             "run r (r = 0 .. len(out) // length - 1) covers the flat indices start(r) .. start(r) "
             "+ length - 1,\nwhere start(r) = base + sum((c_d + offsets[d]) * strides[d]) and c is "
             "r in the mixed radix `sizes`.\nkind: 0 uniform, 1 normal, 2 truncated normal; dtype: "
             "0 float32, 1 float64, 2 float16, 3 bfloat16.\n(p0, p1) = (low, width) or (mean, std) "
             "in the work precision; bh = largest output value below high (uniform).\n"
             "isa: -1 best, else an index of isas().");

/* The runs of a region (shared by fill and fill_strided); jb->total is set. */
static int parse_runs(job_t *jb, unsigned long long length, unsigned long long base,
                      PyObject *sizes, PyObject *offsets, PyObject *strides) {
    const Py_ssize_t nd = PyTuple_GET_SIZE(sizes);
    if (nd > MAXD || PyTuple_GET_SIZE(offsets) != nd || PyTuple_GET_SIZE(strides) != nd) {
        PyErr_SetString(PyExc_ValueError, "sizes, offsets and strides: same length, at most 64");
        return -1;
    }
    if (length == 0 || jb->total % length != 0) {
        PyErr_SetString(PyExc_ValueError, "buffer length is not a multiple of the run length");
        return -1;
    }
    jb->nouter = (int)nd;
    if (parse_u64_tuple(sizes, jb->sizes, nd, "sizes") < 0 ||
        parse_u64_tuple(offsets, jb->offsets, nd, "offsets") < 0 ||
        parse_u64_tuple(strides, jb->strides, nd, "strides") < 0)
        return -1;
    /* the region must hold exactly total / length runs */
    uint64_t runs = 1;
    for (Py_ssize_t d = 0; d < nd; d++) {
        if (jb->sizes[d] == 0) {
            PyErr_SetString(PyExc_ValueError, "zero size with a non-empty buffer");
            return -1;
        }
        if (runs > UINT64_MAX / jb->sizes[d]) {
            PyErr_SetString(PyExc_ValueError, "too many runs");
            return -1;
        }
        runs *= jb->sizes[d];
    }
    if (runs != jb->total / length) {
        PyErr_SetString(PyExc_ValueError, "buffer length does not match the runs");
        return -1;
    }
    jb->length = length;
    jb->base = base;
    return 0;
}

/* The loops load and store whole items through `restrict` pointers: every buffer must be
   aligned to its item size and no two may overlap. Checked here, once per call, so that the
   invariant cannot break silently in a caller (ValueError otherwise). */
static int check_aligned(const void *p, size_t align, const char *what) {
    if ((uintptr_t)p % align != 0) {
        PyErr_Format(PyExc_ValueError, "%s is not aligned to %zu bytes", what, align);
        return -1;
    }
    return 0;
}

static int check_disjoint(const char *a, uint64_t alen, const char *b, uint64_t blen) {
    if (alen && blen && (uintptr_t)a < (uintptr_t)b + blen && (uintptr_t)b < (uintptr_t)a + alen) {
        PyErr_SetString(PyExc_ValueError, "the buffers overlap");
        return -1;
    }
    return 0;
}

/* The strided destination's elements are distinct (no two coordinates share bytes) and its
   strides are item-aligned and non-negative; its byte span goes to *span. */
static int check_strided(const job_t *jb, size_t isz, uint64_t *span) {
    int order[MAXD], n = 0;
    uint64_t last = 0;
    for (int d = 0; d < jb->dnd; d++) {
        if (jb->dstrides[d] < 0 || (uint64_t)jb->dstrides[d] % isz != 0) {
            PyErr_SetString(PyExc_ValueError, "byte strides must be non-negative multiples of the item size");
            return -1;
        }
        if (jb->dext[d] > 1) order[n++] = d;
        last += (jb->dext[d] - 1) * (uint64_t)jb->dstrides[d];
    }
    for (int i = 1; i < n; i++) /* insertion sort by stride: at most 64 dimensions */
        for (int j = i; j > 0 && jb->dstrides[order[j]] < jb->dstrides[order[j - 1]]; j--) {
            const int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    uint64_t need = isz; /* each stride must step over everything the smaller ones reach */
    for (int i = 0; i < n; i++) {
        const uint64_t st = (uint64_t)jb->dstrides[order[i]];
        if (st < need) {
            PyErr_SetString(PyExc_ValueError, "the strided destination has overlapping elements");
            return -1;
        }
        need = st * jb->dext[order[i]];
    }
    *span = last + isz;
    return 0;
}

static PyObject *py_fill(PyObject *self, PyObject *args) {
    (void)self;
    int kind, dtype, threads, isa;
    unsigned int k0, k1;
    Py_buffer view;
    unsigned long long length, base;
    PyObject *sizes, *offsets, *strides;
    double p0, p1, bh;
    if (!PyArg_ParseTuple(args, "iiIIw*KKO!O!O!dddii", &kind, &dtype, &k0, &k1, &view, &length,
                          &base, &PyTuple_Type, &sizes, &PyTuple_Type, &offsets, &PyTuple_Type,
                          &strides, &p0, &p1, &bh, &threads, &isa))
        return NULL;
    job_t *jb = NULL;
    if (check_kind_dtype(kind, dtype) < 0) goto fail;
    const size_t isz = itemsize_of(dtype);
    if (view.len % (Py_ssize_t)isz != 0) {
        PyErr_SetString(PyExc_ValueError, "buffer size is not a multiple of the item size");
        goto fail;
    }
    if (check_aligned(view.buf, isz, "out") < 0) goto fail;
    jb = (job_t *)PyMem_Calloc(1, sizeof(job_t));
    if (!jb) {
        PyErr_NoMemory();
        goto fail;
    }
    jb->total = (uint64_t)view.len / isz;
    if (jb->total == 0) {
        PyMem_Free(jb);
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    jb->isa = parse_isa(isa);
    if (jb->isa < 0) goto fail;
    if (parse_runs(jb, length, base, sizes, offsets, strides) < 0) goto fail;
    jb->kind = kind;
    jb->dtype = dtype;
    jb->k0 = k0;
    jb->k1 = k1;
    jb->out = (char *)view.buf;
    set_params(jb, p0, p1, bh);
    if (run_job(jb, threads) < 0) goto fail;
    PyMem_Free(jb);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
fail:
    PyMem_Free(jb);
    PyBuffer_Release(&view);
    return NULL;
}

PyDoc_STRVAR(fill_strided_doc,
             "fill_strided(kind, dtype, k0, k1, scratch, address, extents, byte_strides, length, "
             "base, sizes, offsets, strides, p0, p1, bh, threads, isa)\n\n"
             "Like fill, but the output is the strided array at ``address`` (the caller keeps it\n"
             "alive and writable, its elements not overlapping): element (c_0, ..) of the region\n"
             "``extents`` is at address + sum(c_d * byte_strides[d]). Chunks are made in scratch\n"
             "buffers of len(scratch) // itemsize elements (best a multiple of the last extent), ``scratch`` being the\n"
             "calling thread's, and copied.");

static PyObject *py_fill_strided(PyObject *self, PyObject *args) {
    (void)self;
    int kind, dtype, threads, isa;
    unsigned int k0, k1;
    Py_buffer scratch;
    unsigned long long address, length, base;
    PyObject *extents, *bstrides, *sizes, *offsets, *strides;
    double p0, p1, bh;
    if (!PyArg_ParseTuple(args, "iiIIw*KO!O!KKO!O!O!dddii", &kind, &dtype, &k0, &k1, &scratch,
                          &address, &PyTuple_Type, &extents, &PyTuple_Type, &bstrides, &length,
                          &base, &PyTuple_Type, &sizes, &PyTuple_Type, &offsets, &PyTuple_Type,
                          &strides, &p0, &p1, &bh, &threads, &isa))
        return NULL;
    job_t *jb = NULL;
    if (check_kind_dtype(kind, dtype) < 0) goto fail;
    const size_t isz = itemsize_of(dtype);
    const Py_ssize_t nd = PyTuple_GET_SIZE(extents);
    if (nd > MAXD || PyTuple_GET_SIZE(bstrides) != nd) {
        PyErr_SetString(PyExc_ValueError, "extents and byte_strides: same length, at most 64");
        goto fail;
    }
    if ((uint64_t)scratch.len < (uint64_t)isz || address == 0) {
        PyErr_SetString(PyExc_ValueError, "scratch must hold an element; address non-zero");
        goto fail;
    }
    jb = (job_t *)PyMem_Calloc(1, sizeof(job_t));
    if (!jb) {
        PyErr_NoMemory();
        goto fail;
    }
    if (parse_u64_tuple(extents, jb->dext, nd, "extents") < 0) goto fail;
    jb->total = 1;
    for (Py_ssize_t d = 0; d < nd; d++) {
        PyObject *item = PyTuple_GET_ITEM(bstrides, d);
        long long v = PyLong_AsLongLong(item);
        if (v == -1 && PyErr_Occurred()) goto fail;
        jb->dstrides[d] = (int64_t)v;
        if (jb->dext[d] && jb->total > UINT64_MAX / jb->dext[d]) {
            PyErr_SetString(PyExc_ValueError, "too many elements");
            goto fail;
        }
        jb->total *= jb->dext[d];
    }
    if (jb->total == 0) {
        PyMem_Free(jb);
        PyBuffer_Release(&scratch);
        Py_RETURN_NONE;
    }
    jb->dnd = (int)nd;
    uint64_t span = 0;
    if (check_strided(jb, isz, &span) < 0 || check_aligned((const void *)(uintptr_t)address, isz, "the destination") < 0 ||
        check_aligned(scratch.buf, isz, "scratch") < 0 ||
        check_disjoint((const char *)(uintptr_t)address, span, (const char *)scratch.buf, (uint64_t)scratch.len) < 0)
        goto fail;
    jb->isa = parse_isa(isa);
    if (jb->isa < 0) goto fail;
    if (parse_runs(jb, length, base, sizes, offsets, strides) < 0) goto fail;
    jb->kind = kind;
    jb->dtype = dtype;
    jb->k0 = k0;
    jb->k1 = k1;
    jb->dst = (char *)(uintptr_t)address;
    jb->dnd = (int)nd;
    jb->scratch0 = (char *)scratch.buf;
    jb->schunk = (uint64_t)scratch.len / isz; /* at least 1 (checked above) */
    jb->out = jb->scratch0;
    set_params(jb, p0, p1, bh);
    if (run_job(jb, threads) < 0) goto fail;
    PyMem_Free(jb);
    PyBuffer_Release(&scratch);
    Py_RETURN_NONE;
fail:
    PyMem_Free(jb);
    PyBuffer_Release(&scratch);
    return NULL;
}

PyDoc_STRVAR(transform_doc,
             "transform(kind, dtype, words, out, p0, p1, bh, threads=1, isa=-1)\n\n"
             "Test entry point: apply the transform of (kind, dtype) to caller-given words.\n"
             "words: uint32 buffer, one word per element (float32 work) or two (x0, x1) per "
             "element (float64).");

static PyObject *py_transform(PyObject *self, PyObject *args) {
    (void)self;
    int kind, dtype, threads = 1, isa = -1;
    Py_buffer words, view;
    double p0, p1, bh;
    if (!PyArg_ParseTuple(args, "iiy*w*ddd|ii", &kind, &dtype, &words, &view, &p0, &p1, &bh,
                          &threads, &isa))
        return NULL;
    job_t *jb = NULL;
    if (check_kind_dtype(kind, dtype) < 0) goto fail;
    const size_t isz = itemsize_of(dtype);
    const uint64_t per = dtype == D_F64 ? 2 : 1;
    if (view.len % (Py_ssize_t)isz != 0 ||
        (uint64_t)words.len != (uint64_t)view.len / isz * per * 4u) {
        PyErr_SetString(PyExc_ValueError, "words and out sizes do not match");
        goto fail;
    }
    if (check_aligned(words.buf, 4, "words") < 0 || check_aligned(view.buf, isz, "out") < 0 ||
        check_disjoint((const char *)words.buf, (uint64_t)words.len, (const char *)view.buf,
                       (uint64_t)view.len) < 0)
        goto fail;
    jb = (job_t *)PyMem_Calloc(1, sizeof(job_t));
    if (!jb) {
        PyErr_NoMemory();
        goto fail;
    }
    jb->isa = parse_isa(isa);
    if (jb->isa < 0) goto fail;
    jb->kind = kind;
    jb->dtype = dtype;
    jb->out = (char *)view.buf;
    jb->total = (uint64_t)view.len / isz;
    jb->words = (const uint32_t *)words.buf;
    set_params(jb, p0, p1, bh);
    if (jb->total && run_job(jb, threads) < 0) goto fail;
    PyMem_Free(jb);
    PyBuffer_Release(&words);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
fail:
    PyMem_Free(jb);
    PyBuffer_Release(&words);
    PyBuffer_Release(&view);
    return NULL;
}

PyDoc_STRVAR(threefry_doc,
             "threefry(k0, k1, x0, x1, isa=-1)\n\n"
             "Encrypt the counters (x0[i], x1[i]) in place (two writable uint32 buffers).");

static PyObject *py_threefry(PyObject *self, PyObject *args) {
    (void)self;
    unsigned int k0, k1;
    int isa = -1;
    Py_buffer b0, b1;
    if (!PyArg_ParseTuple(args, "IIw*w*|i", &k0, &k1, &b0, &b1, &isa)) return NULL;
    int which = parse_isa(isa);
    if (which >= 0 && (b0.len != b1.len || b0.len % 4 != 0)) {
        PyErr_SetString(PyExc_ValueError, "x0 and x1 must be uint32 buffers of one size");
        which = -1;
    }
    if (which >= 0) {
        uint32_t *x0 = (uint32_t *)b0.buf, *x1 = (uint32_t *)b1.buf;
        Py_ssize_t n = b0.len / 4;
        const threefry_fn tf = THREEFRY_FNS[which];
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i += 4096) {
            const int cnt = n - i > 4096 ? 4096 : (int)(n - i);
            tf(x0 + i, x1 + i, cnt, k0, k1);
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b0);
    PyBuffer_Release(&b1);
    if (which < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_isas(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
    PyObject *out = PyTuple_New(ISA_COUNT);
    if (!out) return NULL;
    for (int i = 0; i < ISA_COUNT; i++) {
        PyObject *name = isa_supported[i] ? PyUnicode_FromString(ISA_NAMES[i]) : Py_NewRef(Py_None);
        if (!name) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, i, name);
    }
    return out;
}

static PyObject *py_best_isa(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
    return PyLong_FromLong(best_isa);
}

/* The process environment's value of a name, or None: what os.environ.get
   returns (os.environ sets and unsets through putenv / unsetenv, under the GIL,
   which this holds too), without its Python-level lookup, which raises and
   catches a KeyError for every unset name. */
static PyObject *py_getenv(PyObject *self, PyObject *name) {
    (void)self;
    PyObject *encoded = NULL;
    if (!PyUnicode_FSConverter(name, &encoded)) return NULL;
    const char *value = getenv(PyBytes_AS_STRING(encoded));
    Py_DECREF(encoded);
    if (!value) Py_RETURN_NONE;
    return PyUnicode_DecodeFSDefault(value);
}

static PyMethodDef methods[] = {
    {"fill", py_fill, METH_VARARGS, fill_doc},
    {"fill_strided", py_fill_strided, METH_VARARGS, fill_strided_doc},
    {"transform", py_transform, METH_VARARGS, transform_doc},
    {"threefry", py_threefry, METH_VARARGS, threefry_doc},
    {"isas", py_isas, METH_NOARGS,
     "Names of the compiled instruction sets by index; None where this CPU lacks one."},
    {"best_isa", py_best_isa, METH_NOARGS, "Index of the instruction set used by default."},
    {"getenv", py_getenv, METH_O, "getenv(name): the environment's value of name, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fast",
    "Compiled sampling kernel of weightinit (bitwise equal to the numpy reference).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fast(void) {
    init_isas();
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddIntConstant(m, "CHUNK", CHUNK) < 0 ||
        PyModule_AddIntConstant(m, "SCATTER_CHUNK", SCATTER_CHUNK) < 0 ||
        PyModule_AddIntConstant(m, "BLOCK", BL) < 0 ||
        PyModule_AddIntConstant(m, "THREADS", WI_THREADS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
