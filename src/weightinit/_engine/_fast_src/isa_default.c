/*
 * The portable variant of the loops (x86-64 baseline, aarch64, other
 * compilers): the pieces of the pipeline in plain C, vectorised by the compiler.
 */

#include "kernel.h"
#include "pipeline.h"

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

const wi_isa_t wi_isa_default = {work_range_default, threefry_default};
