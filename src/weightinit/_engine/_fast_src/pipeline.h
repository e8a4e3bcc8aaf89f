/*
 * A range of output positions, block by block: counters (contiguous runs, or
 * gathered indices for short runs), Threefry, transform, store. Written once
 * with the per-block pieces as function parameters; DEFINE_ISA instantiates it
 * for one instruction set (isa_*.c), where the pieces are constants and inline.
 */

#ifndef WI_PIPELINE_H
#define WI_PIPELINE_H

#include "kernel.h"
#include "threefry.h"
#include "transforms.h"

/* normal_block_f64 with the truncation flag a constant in each call. */
WI_INLINE void normal64_impl(const job_t *jb, int n, double *WI_RESTRICT dst, normal_scratch_t *ns,
                             compact64_fn c64, central64_fn cen64, tail64_fn tail64) {
    if (jb->kind == K_TRUNCATED)
        normal_block_f64(n, 1, jb->d0, jb->d1, dst, ns, c64, cen64, tail64);
    else
        normal_block_f64(n, 0, jb->d0, jb->d1, dst, ns, c64, cen64, tail64);
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

#endif /* WI_PIPELINE_H */
