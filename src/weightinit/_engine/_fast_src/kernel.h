/*
 * weightinit._engine._fast: the compiled sampling kernel. What its units share.
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
 *
 * The units (numpy.random's layout: one file per concern, headers for what
 * they share):
 *
 *   kernel.h       build settings, portability, the job and its scratch types,
 *                  and what one unit calls in another (wi_ names);
 *   threefry.h     the generator: Threefry-2x32-20 on arrays of counters;
 *   transforms.h   the transforms: words -> uniform / normal values, float16
 *                  and bfloat16 casts, their per-block loops (portable);
 *   pipeline.h     a range of output positions, block by block: counters,
 *                  Threefry, transform, store; instantiated once per
 *                  instruction set by DEFINE_ISA;
 *   isa_default.c, isa_avx2.c, isa_avx512.c
 *                  the instruction-set variants (the AVX2 / AVX-512 ones with
 *                  GCC target attributes, x86-64 only);
 *   dispatch.c     the ISA dispatch and the threads: which variant runs, the
 *                  chunks handed out to threads, the strided scatter;
 *   module.c       the Python glue: argument checks, the module's functions.
 *
 * Every unit includes this header first (after Python.h where it needs it):
 * the floating-point settings below apply to all of them.
 */

#ifndef WI_KERNEL_H
#define WI_KERNEL_H

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

/* ------------------------------------------------------------------------ */
/* Codes and sizes                                                           */

enum { K_UNIFORM = 0, K_NORMAL = 1, K_TRUNCATED = 2 };
enum { D_F32 = 0, D_F64 = 1, D_F16 = 2, D_BF16 = 3 };
enum { ISA_DEFAULT = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_COUNT = 3 };

#define BL 512              /* lanes per block */
#define CHUNK (1u << 16)    /* elements per unit of thread work */
/* ... and of the strided scatter's work: each destination row (a transposing
   destination's column) then gets several cache lines per chunk */
#define SCATTER_CHUNK (1u << 16)
#define MAXD 64             /* outer dimensions of a region */

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

WI_INLINE size_t itemsize_of(int dtype) {
    return dtype == D_F64 ? 8 : (dtype == D_F32 ? 4 : 2);
}

/* The loops of one instruction set over output positions [p, pend) of a job. */
typedef void (*range_fn)(const job_t *, uint64_t, uint64_t);
typedef void (*threefry_fn)(uint32_t *, uint32_t *, int, uint32_t, uint32_t);

/* ------------------------------------------------------------------------ */
/* Across units                                                              */

/* Shared between the units, not exported from the module (nor called through the PLT). */
#if defined(__GNUC__) && !defined(_WIN32)
#define WI_INTERNAL __attribute__((visibility("hidden")))
#else
#define WI_INTERNAL
#endif

/* isa_*.c: the entry points of each instruction set's loops. */
typedef struct {
    range_fn range;       /* output positions [p, pend) of a job */
    threefry_fn threefry; /* Threefry in place (the threefry() test entry point) */
} wi_isa_t;
WI_INTERNAL extern const wi_isa_t wi_isa_default;
#if WI_MULTIVERSION
WI_INTERNAL extern const wi_isa_t wi_isa_avx2;
WI_INTERNAL extern const wi_isa_t wi_isa_avx512;
WI_INTERNAL void wi_init_perms(void); /* isa_avx2.c: its compaction table, before any draw */
#endif

/* dispatch.c */
WI_INTERNAL void wi_init_isas(void); /* once, at import */
/* isa, or the best one for -1; -1 with ValueError set when this CPU lacks it */
WI_INTERNAL int wi_parse_isa(int isa);
WI_INTERNAL int wi_best_isa(void);
WI_INTERNAL const char *wi_isa_name(int isa);    /* NULL where this CPU lacks it */
WI_INTERNAL threefry_fn wi_threefry_fn(int isa); /* isa: a supported one */
/* Runs the job with the GIL released (see dispatch.c); -1 with MemoryError set */
WI_INTERNAL int wi_run_job(job_t *jb, int threads);

#endif /* WI_KERNEL_H */
