/*
 * The Python glue of weightinit._engine._fast: argument parsing and checks,
 * the module's functions (fill, fill_strided, transform, threefry, isas,
 * best_isa, getenv) and its definition. No numpy C API: buffers come through
 * the buffer protocol.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kernel.h"

/* ------------------------------------------------------------------------ */
/* Python interface                                                          */

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

/* What fill and fill_strided share: the instruction set, the runs (jb->total set), the stream
   key and the transform's parameters. -1 with a Python error set. */
static int setup_stream(job_t *jb, int kind, int dtype, unsigned int k0, unsigned int k1, int isa,
                        unsigned long long length, unsigned long long base, PyObject *sizes,
                        PyObject *offsets, PyObject *strides, double p0, double p1, double bh) {
    jb->isa = wi_parse_isa(isa);
    if (jb->isa < 0) return -1;
    if (parse_runs(jb, length, base, sizes, offsets, strides) < 0) return -1;
    jb->kind = kind;
    jb->dtype = dtype;
    jb->k0 = k0;
    jb->k1 = k1;
    set_params(jb, p0, p1, bh);
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
    if (setup_stream(jb, kind, dtype, k0, k1, isa, length, base, sizes, offsets, strides, p0, p1, bh) < 0)
        goto fail;
    jb->out = (char *)view.buf;
    if (wi_run_job(jb, threads) < 0) goto fail;
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
    if (setup_stream(jb, kind, dtype, k0, k1, isa, length, base, sizes, offsets, strides, p0, p1, bh) < 0)
        goto fail;
    jb->dst = (char *)(uintptr_t)address;
    jb->dnd = (int)nd;
    jb->scratch0 = (char *)scratch.buf;
    jb->schunk = (uint64_t)scratch.len / isz; /* at least 1 (checked above) */
    jb->out = jb->scratch0;
    if (wi_run_job(jb, threads) < 0) goto fail;
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
    jb->isa = wi_parse_isa(isa);
    if (jb->isa < 0) goto fail;
    jb->kind = kind;
    jb->dtype = dtype;
    jb->out = (char *)view.buf;
    jb->total = (uint64_t)view.len / isz;
    jb->words = (const uint32_t *)words.buf;
    set_params(jb, p0, p1, bh);
    if (jb->total && wi_run_job(jb, threads) < 0) goto fail;
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
    int which = wi_parse_isa(isa);
    if (which >= 0 && (b0.len != b1.len || b0.len % 4 != 0)) {
        PyErr_SetString(PyExc_ValueError, "x0 and x1 must be uint32 buffers of one size");
        which = -1;
    }
    if (which >= 0) {
        uint32_t *x0 = (uint32_t *)b0.buf, *x1 = (uint32_t *)b1.buf;
        Py_ssize_t n = b0.len / 4;
        const threefry_fn tf = wi_threefry_fn(which);
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
        const char *isa = wi_isa_name(i);
        PyObject *name = isa ? PyUnicode_FromString(isa) : Py_NewRef(Py_None);
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
    return PyLong_FromLong(wi_best_isa());
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
    wi_init_isas();
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
