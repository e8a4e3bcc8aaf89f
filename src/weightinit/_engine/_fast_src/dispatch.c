/*
 * The ISA dispatch and the threads: which variant of the loops runs (the best
 * one the CPU supports, found at import), the output split into chunks handed
 * out to threads through an atomic counter, and for fill_strided the scatter
 * of each chunk from a per-thread scratch buffer to the strided destination.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kernel.h"

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

/* The loops of each instruction set, and which ones this CPU has (wi_init_isas). */
static range_fn RANGE_FNS[ISA_COUNT];
static threefry_fn THREEFRY_FNS[ISA_COUNT];
static const char *ISA_NAMES[ISA_COUNT] = {"default", "avx2", "avx512"};
static int isa_supported[ISA_COUNT];
static int best_isa = ISA_DEFAULT;

void wi_init_isas(void) {
    RANGE_FNS[ISA_DEFAULT] = wi_isa_default.range;
    THREEFRY_FNS[ISA_DEFAULT] = wi_isa_default.threefry;
    isa_supported[ISA_DEFAULT] = 1;
#if WI_MULTIVERSION
    RANGE_FNS[ISA_AVX2] = wi_isa_avx2.range;
    THREEFRY_FNS[ISA_AVX2] = wi_isa_avx2.threefry;
    RANGE_FNS[ISA_AVX512] = wi_isa_avx512.range;
    THREEFRY_FNS[ISA_AVX512] = wi_isa_avx512.threefry;
    __builtin_cpu_init();
    wi_init_perms();
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

int wi_parse_isa(int isa) {
    if (isa < 0) return best_isa;
    if (isa >= ISA_COUNT || !isa_supported[isa]) {
        PyErr_Format(PyExc_ValueError, "instruction set %d is not supported here", isa);
        return -1;
    }
    return isa;
}

int wi_best_isa(void) { return best_isa; }

const char *wi_isa_name(int isa) { return isa_supported[isa] ? ISA_NAMES[isa] : NULL; }

threefry_fn wi_threefry_fn(int isa) { return THREEFRY_FNS[isa]; }

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

/* The destination address of flat position r of the region's first `naxes` axes (row-major),
   its coordinates going to idx. */
WI_INLINE char *locate(const job_t *jb, uint64_t r, int naxes, uint64_t *idx) {
    char *d = jb->dst;
    for (int k = naxes - 1; k >= 0; k--) {
        idx[k] = r % jb->dext[k];
        r /= jb->dext[k];
        d += (int64_t)idx[k] * jb->dstrides[k];
    }
    return d;
}

/* The next position over the first `naxes` axes after (idx, d): an odometer step. */
WI_INLINE char *step_outer(const job_t *jb, char *d, int naxes, uint64_t *idx) {
    for (int a = naxes - 1; a >= 0; a--) {
        d += jb->dstrides[a];
        if (++idx[a] < jb->dext[a]) break;
        d -= (int64_t)jb->dext[a] * jb->dstrides[a];
        idx[a] = 0;
    }
    return d;
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
        char *d = locate(jb, r0, nd - 1, idx);
        for (uint64_t k = 0; k < nrows; k++) {
            rows[k] = d;
            d = step_outer(jb, d, nd - 1, idx);
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
    char *d = locate(jb, p, nd, idx);
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
            d = step_outer(jb, d, nd - 1, idx);
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
int wi_run_job(job_t *jb, int threads) {
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
