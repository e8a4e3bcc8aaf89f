/*
 * The AVX-512 variant of the loops: compaction by compress instructions, F16C
 * on 16 lanes, and the portable pieces compiled for 512-bit vectors (vprold
 * for Threefry's rotations). GCC target attributes, x86-64 only.
 */

#include "kernel.h"
#include "pipeline.h"

#if WI_MULTIVERSION
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

DEFINE_ISA(avx512, WI_ATTR_AVX512)

const wi_isa_t wi_isa_avx512 = {work_range_avx512, threefry_avx512};
#endif /* WI_MULTIVERSION */
