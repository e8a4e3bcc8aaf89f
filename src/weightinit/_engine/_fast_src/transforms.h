/*
 * The transforms: Threefry words to uniform and normal values (reference:
 * _bits.py, _transforms.py, _special.py), the float16 / bfloat16 casts, and
 * their portable per-block loops, which the vector variants (isa_*.c) replace
 * piece by piece. Inlined into every instruction set's loops.
 */

#ifndef WI_TRANSFORMS_H
#define WI_TRANSFORMS_H

#include "kernel.h"
#include "threefry.h"

/* ------------------------------------------------------------------------ */
/* Constants (each double constant is rounded to float32 once, as numpy's    */
/* ftype(c) does).                                                            */

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
/* Per-block loops (portable)                                                */

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

#endif /* WI_TRANSFORMS_H */
