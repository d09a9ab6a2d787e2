/* CPU kernels of the fused engine: one-pass LIF scans over time (forward and backward of
 * snncli.neurons.lif_sequence) and event-driven (spike-sparse) products for binary inputs.
 *
 * Built on first use by snncli/neurons/_native.py with the system C compiler and loaded with
 * ctypes (no Python or torch headers needed); without a compiler the pure-PyTorch loops in lif.py
 * run instead. Each call walks a block of neurons through all T steps while its membrane stays in
 * L1, so every [T, M] tensor is read or written exactly once, instead of the ~10 passes of the
 * per-step tensor loop.
 *
 * Layout: [T, M] row-major (M = B x N, neuron index = m % N), or [M] for a constant current.
 * dtype codes: 0 = float32, 1 = bfloat16 (stored as uint16), 2 = bool (uint8).
 * Arithmetic follows snnTorch's Leaky term by term (compile with -ffp-contract=off):
 *   U_t = (beta * U_{t-1} + I_t) - theta * S_{t-1},  S_t = [U_t - theta > 0].
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#ifndef BLK
#define BLK 1024
#endif

enum { F32 = 0, BF16 = 1, BOOL = 2 };
enum { FAST_SIGMOID = 0, ATAN = 1, SIGMOID = 2 };

static inline float bf2f(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f2bf(float f) { /* round to nearest even, as torch */
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float load(const void *p, int dt, int64_t i) {
    return dt == BF16 ? bf2f(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

static inline void store(void *p, int dt, int64_t i, float v) {
    if (dt == BF16)
        ((uint16_t *)p)[i] = f2bf(v);
    else
        ((float *)p)[i] = v;
}

/* Surrogate derivative H'(x), in the operation order of surrogate.py's in-place formulas.
 * k1, k2: fast_sigmoid (slope, -), atan (pi/2 * slope, slope / 2), sigmoid (slope, -). */
static inline float surrogate(int kind, float x, float k1, float k2) {
    if (kind == FAST_SIGMOID) {
        float r = 1.0f / (fabsf(x) * k1 + 1.0f);
        return r * r;
    }
    if (kind == ATAN) {
        float y = x * k1;
        return (1.0f / (y * y + 1.0f)) * k2;
    }
    float s = 1.0f / (1.0f + expf(-(x * k1)));
    return s * (1.0f - s) * k1;
}

typedef struct {
    int64_t T, M, N, lo, hi;
    int constant;
    const void *cur;
    int cur_dt;
    const float *beta, *thr; /* length 1 or N */
    int64_t nbeta, nthr;
    void *spk;
    int spk_dt;
    float *mem;              /* [T, M] exact state, or NULL */
    uint16_t *factor;        /* [T, M] bf16 surrogate factor, or NULL */
    uint16_t *mem_keep;      /* [T, M] bf16 membrane, or NULL */
    uint8_t *spk_keep;       /* [T, M] bool spikes, or NULL */
    int kind;
    float k1, k2;
} fwd_args;

/* Fill a block's per-neuron coefficient vector: a scalar repeated, or the slice n0..n0+nb. */
static inline void coefs(float *dst, const float *src, int64_t n, int64_t n0, int64_t nb) {
    if (n == 1)
        for (int64_t j = 0; j < nb; j++) dst[j] = src[0];
    else
        memcpy(dst, src + n0, (size_t)nb * sizeof(float));
}

static void *fwd_range(void *p) {
    fwd_args *a = (fwd_args *)p;
    const int64_t T = a->T, M = a->M, N = a->N;
    float u[BLK], s[BLK], b[BLK], th[BLK];
    for (int64_t m0 = a->lo; m0 < a->hi;) {
        /* with per-neuron coefficients a block never crosses a row, so neuron = n0 + j */
        int64_t n0 = m0 % N, nb = N > 1 ? N - n0 : BLK;
        if (nb > BLK) nb = BLK;
        if (nb > a->hi - m0) nb = a->hi - m0;
        coefs(b, a->beta, a->nbeta, n0, nb);
        coefs(th, a->thr, a->nthr, n0, nb);
        for (int64_t t = 0; t < T; t++) {
            const int64_t row = t * M + m0, in = (a->constant ? 0 : t * M) + m0;
            if (a->cur_dt == BF16) {
                const uint16_t *c = (const uint16_t *)a->cur + in;
                if (t == 0)
                    for (int64_t j = 0; j < nb; j++) u[j] = bf2f(c[j]);
                else
                    for (int64_t j = 0; j < nb; j++) u[j] = (b[j] * u[j] + bf2f(c[j])) - th[j] * s[j];
            } else {
                const float *c = (const float *)a->cur + in;
                if (t == 0)
                    for (int64_t j = 0; j < nb; j++) u[j] = c[j];
                else
                    for (int64_t j = 0; j < nb; j++) u[j] = (b[j] * u[j] + c[j]) - th[j] * s[j];
            }
            for (int64_t j = 0; j < nb; j++) s[j] = (u[j] - th[j]) > 0.0f ? 1.0f : 0.0f;
            if (a->spk_dt == BF16) {
                uint16_t *o = (uint16_t *)a->spk + row;
                for (int64_t j = 0; j < nb; j++) o[j] = s[j] > 0.0f ? 0x3f80 : 0;
            } else {
                memcpy((float *)a->spk + row, s, (size_t)nb * sizeof(float));
            }
            if (a->mem) memcpy(a->mem + row, u, (size_t)nb * sizeof(float));
            if (a->mem_keep)
                for (int64_t j = 0; j < nb; j++) a->mem_keep[row + j] = f2bf(u[j]);
            if (a->spk_keep)
                for (int64_t j = 0; j < nb; j++) a->spk_keep[row + j] = s[j] > 0.0f;
            if (a->factor)
                for (int64_t j = 0; j < nb; j++)
                    a->factor[row + j] = f2bf(surrogate(a->kind, u[j] - th[j], a->k1, a->k2));
        }
        m0 += nb;
    }
    return NULL;
}

typedef struct {
    int64_t T, M, N, lo, hi;
    int constant;
    const void *grad_spk; /* [T, M] or NULL */
    int gs_dt;
    const float *grad_mem;   /* [T, M] or NULL */
    const uint16_t *factor;  /* [T, M] bf16, or NULL: computed from mem */
    const float *mem;        /* [T, M] exact membrane, or NULL */
    const uint16_t *mem_keep;
    const uint8_t *spk_keep;
    const float *thr;        /* for the factor and spikes from mem */
    int64_t nthr;
    const float *leak;       /* length 1 or N; NULL: no leak (gradient through space only) */
    int64_t nleak;
    void *grad_cur;          /* [T, M], or [M] summed over time when constant */
    int gc_dt;
    double *d_beta, *d_thr;  /* per-thread accumulators (length 1 or N), or NULL */
    int64_t nbeta;
    int kind;
    float k1, k2;
} bwd_args;

static void *bwd_range(void *p) {
    bwd_args *a = (bwd_args *)p;
    const int64_t T = a->T, M = a->M, N = a->N;
    /* per-element sums over time in float (T terms), summed across elements in double */
    float g[BLK], lk[BLK], th[BLK], total[BLK], db[BLK], dt[BLK], loc[BLK];
    for (int64_t m0 = a->lo; m0 < a->hi;) {
        /* with per-neuron coefficients a block never crosses a row, so neuron = n0 + j */
        int64_t n0 = m0 % N, nb = N > 1 ? N - n0 : BLK;
        if (nb > BLK) nb = BLK;
        if (nb > a->hi - m0) nb = a->hi - m0;
        if (a->leak)
            coefs(lk, a->leak, a->nleak, n0, nb);
        else
            for (int64_t j = 0; j < nb; j++) lk[j] = 0.0f;
        if (a->thr) coefs(th, a->thr, a->nthr, n0, nb);
        for (int64_t j = 0; j < nb; j++) g[j] = total[j] = db[j] = dt[j] = 0.0f;
        for (int64_t t = T - 1; t >= 0; t--) {
            const int64_t row = t * M + m0;
            /* G_t = dL/dS_t H'_t + dL/dU_t + leak G_{t+1}; every case its own branch-free loop, so each
             * vectorises (one loop with the cases inside ran scalar: 3-4 ns per element) */
            if (a->grad_spk) {
                if (a->factor) {
                    const uint16_t *f = a->factor + row;
                    if (a->gs_dt == BF16) {
                        const uint16_t *gs = (const uint16_t *)a->grad_spk + row;
                        for (int64_t j = 0; j < nb; j++) loc[j] = bf2f(f[j]) * bf2f(gs[j]);
                    } else {
                        const float *gs = (const float *)a->grad_spk + row;
                        for (int64_t j = 0; j < nb; j++) loc[j] = bf2f(f[j]) * gs[j];
                    }
                } else {
                    const float *u = a->mem + row;
                    const float k1 = a->k1, k2 = a->k2;
                    if (a->kind == FAST_SIGMOID)
                        for (int64_t j = 0; j < nb; j++) loc[j] = surrogate(FAST_SIGMOID, u[j] - th[j], k1, k2);
                    else if (a->kind == ATAN)
                        for (int64_t j = 0; j < nb; j++) loc[j] = surrogate(ATAN, u[j] - th[j], k1, k2);
                    else
                        for (int64_t j = 0; j < nb; j++) loc[j] = surrogate(SIGMOID, u[j] - th[j], k1, k2);
                    if (a->gs_dt == BF16) {
                        const uint16_t *gs = (const uint16_t *)a->grad_spk + row;
                        for (int64_t j = 0; j < nb; j++) loc[j] = loc[j] * bf2f(gs[j]);
                    } else {
                        const float *gs = (const float *)a->grad_spk + row;
                        for (int64_t j = 0; j < nb; j++) loc[j] = loc[j] * gs[j];
                    }
                }
                for (int64_t j = 0; j < nb; j++) dt[j] -= loc[j];
            } else {
                for (int64_t j = 0; j < nb; j++) loc[j] = 0.0f;
            }
            if (a->grad_mem) {
                const float *gm = a->grad_mem + row;
                for (int64_t j = 0; j < nb; j++) loc[j] += gm[j];
            }
            for (int64_t j = 0; j < nb; j++) g[j] = loc[j] + lk[j] * g[j];
            if (a->constant) {
                for (int64_t j = 0; j < nb; j++) total[j] += g[j];
            } else if (a->gc_dt == BF16) {
                uint16_t *o = (uint16_t *)a->grad_cur + row;
                for (int64_t j = 0; j < nb; j++) o[j] = f2bf(g[j]);
            } else {
                memcpy((float *)a->grad_cur + row, g, (size_t)nb * sizeof(float));
            }
            if (t > 0) {
                const int64_t prev = row - M;
                if (a->d_beta) {
                    if (a->mem_keep)
                        for (int64_t j = 0; j < nb; j++) db[j] += g[j] * bf2f(a->mem_keep[prev + j]);
                    else
                        for (int64_t j = 0; j < nb; j++) db[j] += g[j] * a->mem[prev + j];
                }
                if (a->d_thr) {
                    if (a->spk_keep)
                        for (int64_t j = 0; j < nb; j++) dt[j] -= a->spk_keep[prev + j] ? g[j] : 0.0f;
                    else
                        for (int64_t j = 0; j < nb; j++) dt[j] -= (a->mem[prev + j] - th[j]) > 0.0f ? g[j] : 0.0f;
                }
            }
        }
        if (a->constant)
            for (int64_t j = 0; j < nb; j++) store(a->grad_cur, a->gc_dt, m0 + j, total[j]);
        if (a->d_beta)
            for (int64_t j = 0; j < nb; j++) a->d_beta[a->nbeta == 1 ? 0 : n0 + j] += (double)db[j];
        if (a->d_thr)
            for (int64_t j = 0; j < nb; j++) a->d_thr[a->nthr == 1 ? 0 : n0 + j] += (double)dt[j];
        m0 += nb;
    }
    return NULL;
}

#define MAX_THREADS 64

/* Threads for `units` pieces of work: the request clamped to 1..MAX_THREADS, at most one per unit. */
static int threads_for(int64_t units, int nthreads) {
    int n = nthreads < 1 ? 1 : (nthreads > MAX_THREADS ? MAX_THREADS : nthreads);
    if (n > units) n = units > 0 ? (int)units : 1;
    return n;
}

/* Split the rows [0, R) of row lists (ptr [R + 1]) into n ranges holding about equal shares of the
 * events: range i ends where ptr crosses (i + 1)/n of them, the last takes the rest. */
static void split_by_events(const int64_t *ptr, int64_t R, int n, int64_t *lo, int64_t *hi) {
    const int64_t E = ptr[R];
    int64_t r = 0;
    for (int i = 0; i < n; i++) {
        lo[i] = r;
        const int64_t goal = E * (i + 1) / n;
        while (r < R && (ptr[r + 1] <= goal || i == n - 1)) r++;
        hi[i] = r;
    }
}

/* Threads used for M elements: at most one per block, at most MAX_THREADS. */
int snn_lif_threads_for(int64_t M, int nthreads) { return threads_for(M / BLK, nthreads); }

/* Run fn on args[0..n) (each with its own range), args[0] on the calling thread.
 * Built with -fopenmp, the work goes to the OpenMP pool, which is torch's own when torch is loaded
 * first (its libgomp has the same soname): the workers torch's matmuls just left spinning take it
 * over, instead of new threads fighting them for the cores (measured: a scan between two matmuls
 * ran 1.7x slower on pthreads). Without OpenMP, one pthread per extra share. */
#ifdef _OPENMP
#include <omp.h>
static void run_threads(void *(*fn)(void *), void *args, size_t size, int n) {
    if (n <= 1 || omp_in_parallel()) {
        for (int i = 0; i < n; i++) fn((char *)args + i * size);
        return;
    }
#pragma omp parallel for num_threads(n) schedule(static, 1)
    for (int i = 0; i < n; i++) fn((char *)args + i * size);
}
#else
static void run_threads(void *(*fn)(void *), void *args, size_t size, int n) {
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS];
    for (int i = 1; i < n; i++) started[i] = pthread_create(&tid[i], NULL, fn, (char *)args + i * size) == 0;
    fn(args);
    for (int i = 1; i < n; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            fn((char *)args + i * size); /* could not start a thread: do its share here */
    }
}
#endif

/* 1 when built with OpenMP (threads from the OpenMP pool), 0 with pthreads. */
int snn_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int snn_lif_forward(int64_t T, int64_t M, int64_t N, int constant, const void *cur, int cur_dt,
                    const float *beta, int64_t nbeta, const float *thr, int64_t nthr, void *spk, int spk_dt,
                    float *mem, uint16_t *factor, uint16_t *mem_keep, uint8_t *spk_keep, int kind, float k1,
                    float k2, int nthreads) {
    fwd_args a = {T, M, N, 0, M, constant, cur, cur_dt, beta, thr, nbeta, nthr, spk, spk_dt,
                  mem, factor, mem_keep, spk_keep, kind, k1, k2};
    fwd_args args[MAX_THREADS];
    int n = snn_lif_threads_for(M, nthreads);
    for (int i = 0; i < n; i++) {
        args[i] = a;
        args[i].lo = M * i / n;
        args[i].hi = M * (i + 1) / n;
    }
    run_threads(fwd_range, args, sizeof(fwd_args), n);
    return n;
}

/* d_beta / d_thr: zeroed arrays of [snn_lif_threads_for(M, nthreads), n] doubles (n = nbeta / nthr),
 * one row per thread; the caller sums the rows in order, so the result depends only on the thread count. */
int snn_lif_backward(int64_t T, int64_t M, int64_t N, int constant, const void *grad_spk, int gs_dt,
                     const float *grad_mem, const uint16_t *factor, const float *mem, const uint16_t *mem_keep,
                     const uint8_t *spk_keep, const float *thr, int64_t nthr, const float *leak, int64_t nleak,
                     void *grad_cur, int gc_dt, double *d_beta, int64_t nbeta, double *d_thr, int kind, float k1,
                     float k2, int nthreads) {
    bwd_args a = {T, M, N, 0, M, constant, grad_spk, gs_dt, grad_mem, factor, mem, mem_keep, spk_keep, thr,
                  nthr, leak, nleak, grad_cur, gc_dt, d_beta, d_thr, nbeta, kind, k1, k2};
    bwd_args args[MAX_THREADS];
    int n = snn_lif_threads_for(M, nthreads);
    for (int i = 0; i < n; i++) {
        args[i] = a;
        args[i].lo = M * i / n;
        args[i].hi = M * (i + 1) / n;
        if (d_beta) args[i].d_beta = d_beta + (int64_t)i * nbeta;
        if (d_thr) args[i].d_thr = d_thr + (int64_t)i * nthr;
    }
    run_threads(bwd_range, args, sizeof(bwd_args), n);
    return n;
}


/* ---------------------------------------------------------------------------------------------
 * Event-driven products. A [R, N] spike matrix (0/1) becomes row lists of its active inputs
 * (CSR: rowptr [R + 1], idx [E]); then
 *   forward:      out[r, :] = bias + sum_{i in row r} Wt[i, :]            (Wt = W^T, [N, O], fp32)
 *   weight grad:  gWt[i, :] = sum_{r : S[r, i] = 1} G[r, :]               (= (G^T S)^T)
 * Every event adds one weight (or gradient) row; nothing multiplies a zero. Sums run in fp32, in
 * a fixed order (by row, then by input index), so results depend on nothing but the data.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    int64_t lo, hi, N;
    const void *S;
    int dt;
    int64_t *rowptr; /* counts in pass 1, then filled from the prefix sums */
    int32_t *idx;
    int pass;
} csr_args;

static inline int active(const void *S, int dt, int64_t k) {
    if (dt == BF16) return ((const uint16_t *)S)[k] != 0;
    if (dt == BOOL) return ((const uint8_t *)S)[k] != 0;
    return ((const float *)S)[k] != 0.0f;
}

static void *csr_range(void *p) {
    csr_args *a = (csr_args *)p;
    for (int64_t r = a->lo; r < a->hi; r++) {
        const int64_t base = r * a->N;
        if (a->pass == 1) {
            int64_t c = 0;
            if (a->dt == BF16) {
                const uint16_t *s = (const uint16_t *)a->S + base;
                for (int64_t j = 0; j < a->N; j++) c += s[j] != 0;
            } else {
                for (int64_t j = 0; j < a->N; j++) c += active(a->S, a->dt, base + j);
            }
            a->rowptr[r + 1] = c;
        } else {
            int32_t *out = a->idx + a->rowptr[r];
            int64_t j = 0;
#if defined(__AVX512F__) && defined(__AVX512BW__)
            /* 32 inputs at a time: a mask of the active ones, their indices compressed into place
             * (register compress and a masked store: the memory form is slow on some CPUs) */
            const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (; j + 32 <= a->N; j += 32) {
                __mmask32 m;
                if (a->dt == BF16) {
                    const __m512i v = _mm512_loadu_si512((const uint16_t *)a->S + base + j);
                    m = _mm512_test_epi16_mask(v, v);
                } else if (a->dt == BOOL) {
                    const __m256i v = _mm256_loadu_si256((const __m256i *)((const uint8_t *)a->S + base + j));
                    m = _mm256_test_epi8_mask(v, v);
                } else {
                    const float *f = (const float *)a->S + base + j;
                    const __m512 z = _mm512_setzero_ps();
                    m = (__mmask32)_mm512_cmp_ps_mask(_mm512_loadu_ps(f), z, _CMP_NEQ_UQ) |
                        ((__mmask32)_mm512_cmp_ps_mask(_mm512_loadu_ps(f + 16), z, _CMP_NEQ_UQ) << 16);
                }
                for (int h = 0; h < 2 && m; h++, m >>= 16) {
                    const __mmask16 mh = (__mmask16)(m & 0xFFFF);
                    if (!mh) continue;
                    const int cnt = __builtin_popcount(mh);
                    const __m512i ids = _mm512_maskz_compress_epi32(mh, _mm512_add_epi32(iota, _mm512_set1_epi32((int)(j + 16 * h))));
                    _mm512_mask_storeu_epi32(out, (__mmask16)((1u << cnt) - 1u), ids);
                    out += cnt;
                }
            }
#elif defined(__AVX2__)
            /* 8 inputs at a time: a bit mask of the active ones, its set bits written in order */
            for (; j + 8 <= a->N; j += 8) {
                unsigned m;
                if (a->dt == BF16) {
                    const __m128i v = _mm_loadu_si128((const __m128i *)((const uint16_t *)a->S + base + j));
                    const __m128i z = _mm_cmpeq_epi16(v, _mm_setzero_si128());
                    m = ~(unsigned)_mm_movemask_epi8(_mm_packs_epi16(z, z)) & 0xFFu;
                } else if (a->dt == BOOL) {
                    const __m128i v = _mm_loadl_epi64((const __m128i *)((const uint8_t *)a->S + base + j));
                    m = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) & 0xFFu;
                } else {
                    const __m256 f = _mm256_loadu_ps((const float *)a->S + base + j);
                    m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(f, _mm256_setzero_ps(), _CMP_NEQ_UQ));
                }
                for (; m; m &= m - 1) *out++ = (int32_t)(j + __builtin_ctz(m));
            }
#endif
            for (; j < a->N; j++)
                if (active(a->S, a->dt, base + j)) *out++ = (int32_t)j;
        }
    }
    return NULL;
}

/* Count active inputs per row into rowptr[1..R] (rowptr[0] = 0 and the prefix sums are the
 * caller's), or with pass = 2 fill idx from the prefix-summed rowptr. */
int snn_events_csr(int64_t R, int64_t N, const void *S, int dt, int64_t *rowptr, int32_t *idx, int pass,
                   int nthreads) {
    csr_args a = {0, R, N, S, dt, rowptr, idx, pass};
    csr_args args[MAX_THREADS];
    int n = threads_for(R, nthreads);
    for (int i = 0; i < n; i++) {
        args[i] = a;
        args[i].lo = R * i / n;
        args[i].hi = R * (i + 1) / n;
    }
    run_threads(csr_range, args, sizeof(csr_args), n);
    return n;
}

#define OT_MAX 512

typedef struct {
    int64_t lo, hi, O, tile, rows;
    const int64_t *ptr;
    const int32_t *idx;
    const void *src; /* tiled: [ceil(O / tile), rows, tile], zero-padded */
    int src_dt;
    const float *bias;
    void *out;
    int out_dt;
} gather_args;

/* out[q, :] = bias + sum_{k in ptr[q]..ptr[q+1]} src[idx[k], :], for q in [lo, hi).
 * The source comes tiled by columns, so one tile of every source row is one contiguous block
 * (sized by the caller to fit in L2): it serves all q before the next tile is touched, and the
 * scattered row reads hit cache and TLB instead of one 4 KiB page per event. */

/* Vector versions of the event loops, written once over a few vector operations per instruction set:
 * AVX-512 (VL = 16 lanes) or AVX2 (VL = 8, CPUs without AVX-512). A tile of NV x VL columns is held
 * in NV registers, so an event costs NV loads (+ conversions) and adds, where the portable loop also
 * reloads and stores its accumulator through memory. Same operations in the same order:
 * bit-identical results. */
#define VEC_MAX 8
#ifndef PREFETCH
#define PREFETCH 8
#endif
#if defined(__AVX512F__)
static inline __mmask16 tail_mask(int64_t w, int v) {
    int64_t r = w - 16 * (int64_t)v;
    return r >= 16 ? (__mmask16)0xFFFF : (r <= 0 ? (__mmask16)0 : (__mmask16)((1u << r) - 1u));
}

static inline __m512 load16(const void *p, int bf) {
    if (bf)
        return _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
    return _mm512_loadu_ps((const float *)p);
}

static inline void store16(void *p, __m512 x, int bf, __mmask16 m) {
    if (!bf) {
        _mm512_mask_storeu_ps(p, m, x);
        return;
    }
    /* round to nearest even as f2bf, quiet NaN kept a NaN */
    __m512i u = _mm512_castps_si512(x);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
    _mm256_mask_storeu_epi16(p, m, _mm512_cvtepi32_epi16(r));
}

#define VL 16
typedef __m512 vec;
static inline vec v_zero(void) { return _mm512_setzero_ps(); }
static inline vec v_add(vec a, vec b) { return _mm512_add_ps(a, b); }
static inline vec v_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_storeu(float *p, vec x) { _mm512_storeu_ps(p, x); }
static inline vec v_load(const void *p, int bf) { return load16(p, bf); }

/* vector v of a w-column tile whose vector starts at p (fp32 or bf16), zeros beyond the w columns */
static inline vec v_load_tail(const void *p, int bf, int64_t w, int v) {
    const __mmask16 m = tail_mask(w, v);
    if (bf) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
    return _mm512_maskz_loadu_ps(m, p);
}

/* store the lanes of vector v that hold one of the w columns (fp32, or bf16 rounded as f2bf) */
static inline void v_store_tail(void *p, vec x, int bf, int64_t w, int v) { store16(p, x, bf, tail_mask(w, v)); }
#elif defined(__AVX2__)
#define VL 8
typedef __m256 vec;

static inline __m256i tail_mask8(int64_t w, int v) { /* lanes of vector v that hold one of the w columns */
    int64_t r = w - 8 * (int64_t)v;
    r = r < 0 ? 0 : (r > 8 ? 8 : r);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline vec v_zero(void) { return _mm256_setzero_ps(); }
static inline vec v_add(vec a, vec b) { return _mm256_add_ps(a, b); }
static inline vec v_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_storeu(float *p, vec x) { _mm256_storeu_ps(p, x); }

static inline vec v_load(const void *p, int bf) {
    if (bf) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
    return _mm256_loadu_ps((const float *)p);
}

static inline vec v_load_tail(const void *p, int bf, int64_t w, int v) {
    if (!bf) return _mm256_maskload_ps((const float *)p, tail_mask8(w, v));
    float f[8];
    const int64_t n = w - 8 * (int64_t)v;
    for (int64_t j = 0; j < 8; j++) f[j] = j < n ? bf2f(((const uint16_t *)p)[j]) : 0.0f;
    return _mm256_loadu_ps(f);
}

static inline void v_store_tail(void *p, vec x, int bf, int64_t w, int v) {
    if (!bf) {
        _mm256_maskstore_ps((float *)p, tail_mask8(w, v), x);
        return;
    }
    float f[8];
    _mm256_storeu_ps(f, x);
    const int64_t r = w - 8 * (int64_t)v;
    for (int64_t j = 0; j < (r > 8 ? 8 : r); j++) ((uint16_t *)p)[j] = f2bf(f[j]);
}
#endif

#ifdef VL
static inline __attribute__((always_inline)) void gather_tile_v(const gather_args *a, int64_t base, int64_t o0,
                                                                int64_t w, const int nv, const int bf) {
    const int64_t O = a->O, tile = a->tile;
    const size_t elem = bf ? 2 : 4, out_elem = a->out_dt == BF16 ? 2 : 4;
    const char *src = (const char *)a->src;
    for (int64_t q = a->lo; q < a->hi; q++) {
        vec acc[VEC_MAX];
        for (int v = 0; v < nv; v++) acc[v] = a->bias ? v_load_tail(a->bias + o0 + VL * v, 0, w, v) : v_zero();
        const int64_t k_end = a->ptr[q + 1], k_last = a->ptr[a->hi];
        for (int64_t k = a->ptr[q]; k < k_end; k++) {
            const char *row = src + (size_t)(base + (int64_t)a->idx[k] * tile) * elem;
            if (k + PREFETCH < k_last) { /* the row PREFETCH events ahead (maybe the next q's): L2 latency hidden */
                const char *next = src + (size_t)(base + (int64_t)a->idx[k + PREFETCH] * tile) * elem;
                for (int64_t off = 0; off < (int64_t)(nv * VL * elem); off += 64) _mm_prefetch(next + off, _MM_HINT_T0);
            }
            for (int v = 0; v < nv; v++) acc[v] = v_add(acc[v], v_load(row + VL * v * elem, bf));
        }
        char *out = (char *)a->out + (size_t)(q * O + o0) * out_elem;
        for (int v = 0; v < nv; v++) v_store_tail(out + VL * v * out_elem, acc[v], a->out_dt == BF16, w, v);
    }
}

/* 1 when the vector loop ran this tile (tile a multiple of VL, at most VEC_MAX x VL columns) */
static int gather_tile_vec(const gather_args *a, int64_t base, int64_t o0, int64_t w) {
    const int bf = a->src_dt == BF16;
    if (a->tile % VL || a->tile > VL * VEC_MAX || (a->src_dt != BF16 && a->src_dt != F32)) return 0;
    switch (a->tile / VL) {
#define CASE(NV) case NV: if (bf) gather_tile_v(a, base, o0, w, NV, 1); else gather_tile_v(a, base, o0, w, NV, 0); return 1;
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
    }
    return 0;
}
#else
static int gather_tile_vec(const gather_args *a, int64_t base, int64_t o0, int64_t w) {
    (void)a; (void)base; (void)o0; (void)w;
    return 0;
}
#endif

static void *gather_range(void *p) {
    gather_args *a = (gather_args *)p;
    const int64_t O = a->O, tile = a->tile;
    float acc[OT_MAX];
    for (int64_t o0 = 0, k0 = 0; o0 < O; o0 += tile, k0++) {
        const int64_t w = O - o0 < tile ? O - o0 : tile;
        const int64_t base = k0 * a->rows * tile;
        if (gather_tile_vec(a, base, o0, w)) continue;
        for (int64_t q = a->lo; q < a->hi; q++) {
            if (a->bias)
                memcpy(acc, a->bias + o0, (size_t)w * sizeof(float));
            else
                for (int64_t j = 0; j < tile; j++) acc[j] = 0.0f;
            for (int64_t k = a->ptr[q]; k < a->ptr[q + 1]; k++) {
                const int64_t row = base + (int64_t)a->idx[k] * tile;
                if (a->src_dt == BF16) {
                    const uint16_t *s = (const uint16_t *)a->src + row;
                    for (int64_t j = 0; j < tile; j++) acc[j] += bf2f(s[j]);
                } else {
                    const float *s = (const float *)a->src + row;
                    for (int64_t j = 0; j < tile; j++) acc[j] += s[j];
                }
            }
            const int64_t at = q * O + o0;
            if (a->out_dt == BF16) {
                uint16_t *o = (uint16_t *)a->out + at;
                for (int64_t j = 0; j < w; j++) o[j] = f2bf(acc[j]);
            } else {
                memcpy((float *)a->out + at, acc, (size_t)w * sizeof(float));
            }
        }
    }
    return NULL;
}

/* out[q, :] = bias + sum of the src rows listed for q, for q in [0, Q); threads split the q's.
 * src: [ceil(O / tile), rows, tile] (see gather_range). */
int snn_events_gather(int64_t Q, int64_t O, const int64_t *ptr, const int32_t *idx, const void *src, int src_dt,
                      int64_t rows, int64_t tile, const float *bias, void *out, int out_dt, int nthreads) {
    if (tile < 1 || tile > OT_MAX) return -1;
    gather_args a = {0, Q, O, tile, rows, ptr, idx, src, src_dt, bias, out, out_dt};
    gather_args args[MAX_THREADS];
    int n = threads_for(Q, nthreads);
    int64_t lo[MAX_THREADS], hi[MAX_THREADS];
    split_by_events(ptr, Q, n, lo, hi); /* balance by events, not by rows */
    for (int i = 0; i < n; i++) {
        args[i] = a;
        args[i].lo = lo[i];
        args[i].hi = hi[i];
    }
    run_threads(gather_range, args, sizeof(gather_args), n);
    return n;
}

typedef struct {
    int64_t R, N, O, tile, k_lo, k_hi;
    const int64_t *rowptr;
    const int32_t *idx;
    const void *G; /* [R, O] */
    int g_dt;
    float *out;    /* [N, O] */
    float *acc;    /* [N, tile] scratch of this thread */
} scatter_args;

/* For column tiles k in [k_lo, k_hi): acc[i, :] = sum over the events (r, i) of G[r, tile k],
 * streaming G row by row while the [N, tile] accumulator stays in L2; then out[:, tile k] = acc. */
#ifdef VL
static inline __attribute__((always_inline)) void scatter_tile_v(const scatter_args *a, int64_t o0, int64_t w,
                                                                 const int nv, const int bf) {
    const int64_t O = a->O, tile = a->tile;
    const size_t elem = bf ? 2 : 4;
    for (int64_t r = 0; r < a->R; r++) {
        const int64_t k_first = a->rowptr[r], k_end = a->rowptr[r + 1];
        if (k_first == k_end) continue;
        vec g[VEC_MAX];
        const int64_t at = r * O + o0;
        for (int v = 0; v < nv; v++) g[v] = v_load_tail((const char *)a->G + (size_t)(at + VL * v) * elem, bf, w, v);
        for (int64_t k = k_first; k < k_end; k++) {
            float *dst = a->acc + (int64_t)a->idx[k] * tile;
            if (k + PREFETCH < k_end) {
                const char *next = (const char *)(a->acc + (int64_t)a->idx[k + PREFETCH] * tile);
                for (int64_t off = 0; off < (int64_t)(nv * VL * 4); off += 64) _mm_prefetch(next + off, _MM_HINT_T0);
            }
            for (int v = 0; v < nv; v++) v_storeu(dst + VL * v, v_add(v_loadu(dst + VL * v), g[v]));
        }
    }
}

static int scatter_tile_vec(const scatter_args *a, int64_t o0, int64_t w) {
    const int bf = a->g_dt == BF16;
    if (a->tile % VL || a->tile > VL * VEC_MAX || (a->g_dt != BF16 && a->g_dt != F32)) return 0;
    switch (a->tile / VL) {
#define CASE(NV) case NV: if (bf) scatter_tile_v(a, o0, w, NV, 1); else scatter_tile_v(a, o0, w, NV, 0); return 1;
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
    }
    return 0;
}
#else
static int scatter_tile_vec(const scatter_args *a, int64_t o0, int64_t w) {
    (void)a; (void)o0; (void)w;
    return 0;
}
#endif

/* The widest column tile the vector event loops take (VEC_MAX vectors of VL lanes: 128 columns with
 * AVX-512, 64 with AVX2); 0 without them. */
int snn_vector_tile(void) {
#ifdef VL
    return VL * VEC_MAX;
#else
    return 0;
#endif
}

static void *scatter_range(void *p) {
    scatter_args *a = (scatter_args *)p;
    const int64_t O = a->O, tile = a->tile;
    float g[OT_MAX];
    for (int64_t k0 = a->k_lo; k0 < a->k_hi; k0++) {
        const int64_t o0 = k0 * tile, w = O - o0 < tile ? O - o0 : tile;
        memset(a->acc, 0, (size_t)(a->N * tile) * sizeof(float));
        for (int64_t r = scatter_tile_vec(a, o0, w) ? a->R : 0; r < a->R; r++) {
            const int64_t k_first = a->rowptr[r], k_end = a->rowptr[r + 1];
            if (k_first == k_end) continue;
            const int64_t at = r * O + o0;
            if (a->g_dt == BF16) {
                const uint16_t *s = (const uint16_t *)a->G + at;
                for (int64_t j = 0; j < w; j++) g[j] = bf2f(s[j]);
            } else {
                memcpy(g, (const float *)a->G + at, (size_t)w * sizeof(float));
            }
            for (int64_t j = w; j < tile; j++) g[j] = 0.0f;
            for (int64_t k = k_first; k < k_end; k++) {
                float *dst = a->acc + (int64_t)a->idx[k] * tile;
                for (int64_t j = 0; j < tile; j++) dst[j] += g[j];
            }
        }
        for (int64_t i = 0; i < a->N; i++) memcpy(a->out + i * O + o0, a->acc + i * tile, (size_t)w * sizeof(float));
    }
    return NULL;
}

/* Column lists (CSC) from row lists (CSR): for every input j the rows it fired at, ascending.
 * Threads split the rows (balanced by events); each counts its events per column, then writes its
 * rows at its own offsets, so the lists come out in row order whatever the thread count.
 * scratch: [threads, N] int64. */
typedef struct {
    int64_t lo, hi, N;
    const int64_t *rowptr;
    const int32_t *idx;
    int64_t *cnt; /* this thread's [N]: counts, then write offsets */
    int32_t *rows;
    int pass;
} csc_args;

static void *csc_range(void *p) {
    csc_args *a = (csc_args *)p;
    if (a->pass == 1) {
        memset(a->cnt, 0, (size_t)a->N * sizeof(int64_t));
        for (int64_t k = a->rowptr[a->lo]; k < a->rowptr[a->hi]; k++) a->cnt[a->idx[k]]++;
    } else {
        for (int64_t r = a->lo; r < a->hi; r++)
            for (int64_t k = a->rowptr[r]; k < a->rowptr[r + 1]; k++) a->rows[a->cnt[a->idx[k]]++] = (int32_t)r;
    }
    return NULL;
}

/* colptr [N + 1], rows [E]; returns the threads used. */
int snn_events_csc(int64_t R, int64_t N, const int64_t *rowptr, const int32_t *idx, int64_t *colptr, int32_t *rows,
                   int64_t *scratch, int nthreads) {
    csc_args args[MAX_THREADS];
    int n = threads_for(R, nthreads);
    int64_t lo[MAX_THREADS], hi[MAX_THREADS];
    split_by_events(rowptr, R, n, lo, hi);
    for (int i = 0; i < n; i++) args[i] = (csc_args){lo[i], hi[i], N, rowptr, idx, scratch + (int64_t)i * N, rows, 1};
    run_threads(csc_range, args, sizeof(csc_args), n);
    int64_t at = 0;
    for (int64_t j = 0; j < N; j++) {
        colptr[j] = at;
        for (int i = 0; i < n; i++) {
            const int64_t c = args[i].cnt[j];
            args[i].cnt[j] = at;
            at += c;
        }
    }
    colptr[N] = at;
    for (int i = 0; i < n; i++) args[i].pass = 2;
    run_threads(csc_range, args, sizeof(csc_args), n);
    return n;
}

/* out [N, O] (fp32) = S^T G for S [R, N] given as row lists and G [R, O] (fp32 or bf16): the
 * weight gradient of an event-driven layer, transposed. Threads split the column tiles;
 * scratch: [threads, N, tile] fp32. Returns the threads used, or -1 for a bad tile. */
int snn_events_scatter(int64_t R, int64_t N, int64_t O, const int64_t *rowptr, const int32_t *idx, const void *G,
                       int g_dt, float *out, int64_t tile, float *scratch, int nthreads) {
    if (tile < 1 || tile > OT_MAX) return -1;
    const int64_t tiles = (O + tile - 1) / tile;
    int n = threads_for(tiles, nthreads);
    scatter_args args[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        args[i] = (scatter_args){R, N, O, tile, tiles * i / n, tiles * (i + 1) / n, rowptr, idx, G, g_dt, out,
                                 scratch + (int64_t)i * N * tile};
    }
    run_threads(scatter_range, args, sizeof(scatter_args), n);
    return n;
}

typedef struct {
    int64_t lo, hi;
    const void *x;
    int dt;
    int64_t count;
} count_args;

static void *count_range(void *p) {
    count_args *a = (count_args *)p;
    int64_t c = 0;
    if (a->dt == BF16) {
        const uint16_t *x = (const uint16_t *)a->x;
        for (int64_t k = a->lo; k < a->hi; k++) c += (x[k] & 0x7fffu) != 0;
    } else if (a->dt == BOOL) {
        const uint8_t *x = (const uint8_t *)a->x;
        for (int64_t k = a->lo; k < a->hi; k++) c += x[k] != 0;
    } else {
        const float *x = (const float *)a->x;
        for (int64_t k = a->lo; k < a->hi; k++) c += x[k] != 0.0f;
    }
    a->count = c;
    return NULL;
}

/* Number of nonzero elements of a contiguous array (spike counts for firing rates). */
int64_t snn_count_nonzero(int64_t n, const void *x, int dt, int nthreads) {
    count_args args[MAX_THREADS];
    int t = threads_for(n / 65536 + 1, nthreads);
    for (int i = 0; i < t; i++) args[i] = (count_args){n * i / t, n * (i + 1) / t, x, dt, 0};
    run_threads(count_range, args, sizeof(count_args), t);
    int64_t c = 0;
    for (int i = 0; i < t; i++) c += args[i].count;
    return c;
}

/* ---------------------------------------------------------------------------------------------
 * Thin products: a layer with at most THIN_MAX outputs (a 10-class readout) over R = T x B rows.
 * BLAS kernels run such shapes at a few percent of their peak (measured: [3200, 512] x [512, 10]
 * 1.0-1.3 ms on 2 threads, for 16 M multiply-adds); these loops stream the wide operand once.
 *   forward:     Y[r, o] = b[o] + sum_n X[r, n] W[o, n]       (X fp32 or bf16, W fp32, Y fp32)
 *   input grad:  DX[r, n] = sum_o G[r, o] W[o, n]              (G fp32, DX fp32 or bf16)
 *   weight grad: DW[o, n] = sum_r G[r, o] X[r, n]              (fp32)
 * Fixed summation orders (16 lane partial sums then lanes in order; o ascending; r ascending), so
 * results depend on nothing but the data, whatever the thread count.
 * ------------------------------------------------------------------------------------------- */
#define THIN_MAX 16
#define LANES 16

typedef struct {
    int64_t lo, hi, R, N, O;
    const void *X;
    int x_dt;
    const float *W, *bias, *G;
    void *out;
    int out_dt;
} thin_args;

#if defined(__AVX512F__)
/* AVX-512 thin loops: the THIN_MAX accumulators of a row (forward), of 4 rows (input grad) or of
 * 32 columns (weight grad, one 64-byte line of bf16 spikes) live in registers. */
static void thin_forward_v(const thin_args *a) {
    const int64_t N = a->N, O = a->O, body = N / 16 * 16;
    const int bf = a->x_dt == BF16;
    for (int64_t r = a->lo; r < a->hi; r++) {
        __m512 acc[THIN_MAX];
        for (int64_t o = 0; o < O; o++) acc[o] = _mm512_setzero_ps();
        const char *xr = (const char *)a->X + (size_t)(r * N) * (bf ? 2 : 4);
        for (int64_t n = 0; n < body; n += 16) {
            const __m512 x = load16(xr + n * (bf ? 2 : 4), bf);
            for (int64_t o = 0; o < O; o++) acc[o] = _mm512_add_ps(acc[o], _mm512_mul_ps(x, _mm512_loadu_ps(a->W + o * N + n)));
        }
        float *y = (float *)a->out + r * O;
        for (int64_t o = 0; o < O; o++) {
            float s = _mm512_reduce_add_ps(acc[o]);
            for (int64_t n = body; n < N; n++) s += load(a->X, a->x_dt, r * N + n) * a->W[o * N + n];
            y[o] = (a->bias ? a->bias[o] : 0.0f) + s;
        }
    }
}

static void thin_input_grad_v(const thin_args *a) {
    const int64_t N = a->N, O = a->O;
    const int bf = a->out_dt == BF16;
    for (int64_t r0 = a->lo; r0 < a->hi; r0 += 4) {
        const int rows = a->hi - r0 < 4 ? (int)(a->hi - r0) : 4;
        for (int64_t n = 0; n < N; n += 16) {
            const __mmask16 m = tail_mask(N - n, 0);
            __m512 acc[4];
            for (int i = 0; i < rows; i++) acc[i] = _mm512_setzero_ps();
            for (int64_t o = 0; o < O; o++) {
                const __m512 w = _mm512_maskz_loadu_ps(m, a->W + o * N + n);
                for (int i = 0; i < rows; i++)
                    acc[i] = o == 0 ? _mm512_mul_ps(_mm512_set1_ps(a->G[(r0 + i) * O]), w)
                                    : _mm512_add_ps(acc[i], _mm512_mul_ps(_mm512_set1_ps(a->G[(r0 + i) * O + o]), w));
            }
            for (int i = 0; i < rows; i++)
                store16((char *)a->out + (size_t)((r0 + i) * N + n) * (bf ? 2 : 4), acc[i], bf, m);
        }
    }
}

static void thin_weight_grad_v(const thin_args *a) { /* lo, hi: chunks of 32 columns */
    const int64_t N = a->N, O = a->O;
    const int bf = a->x_dt == BF16;
    const size_t elem = bf ? 2 : 4;
    for (int64_t c = a->lo; c < a->hi; c++) {
        const int64_t n0 = c * 32;
        const __mmask16 m0 = tail_mask(N - n0, 0), m1 = tail_mask(N - n0, 1);
        __m512 acc0[THIN_MAX], acc1[THIN_MAX];
        for (int64_t o = 0; o < O; o++) acc0[o] = acc1[o] = _mm512_setzero_ps();
        for (int64_t r = 0; r < a->R; r++) {
            const char *xr = (const char *)a->X + (size_t)(r * N + n0) * elem;
            __m512 x0, x1;
            if (bf) {
                x0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m0, xr)), 16));
                x1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m1, xr + 32)), 16));
            } else {
                x0 = _mm512_maskz_loadu_ps(m0, xr);
                x1 = _mm512_maskz_loadu_ps(m1, xr + 64);
            }
            const float *g = a->G + r * O;
            for (int64_t o = 0; o < O; o++) {
                const __m512 go = _mm512_set1_ps(g[o]);
                acc0[o] = _mm512_add_ps(acc0[o], _mm512_mul_ps(go, x0));
                acc1[o] = _mm512_add_ps(acc1[o], _mm512_mul_ps(go, x1));
            }
        }
        float *dw = (float *)a->out;
        for (int64_t o = 0; o < O; o++) {
            _mm512_mask_storeu_ps(dw + o * N + n0, m0, acc0[o]);
            _mm512_mask_storeu_ps(dw + o * N + n0 + 16, m1, acc1[o]);
        }
    }
}
#define THIN_VECTOR 1
#else
#define THIN_VECTOR 0
#endif

static void *thin_forward_range(void *p) {
    thin_args *a = (thin_args *)p;
#if THIN_VECTOR
    thin_forward_v(a);
    return NULL;
#endif
    const int64_t N = a->N, O = a->O, body = N / LANES * LANES;
    float x[LANES];
    for (int64_t r = a->lo; r < a->hi; r++) {
        float part[THIN_MAX][LANES];
        for (int64_t o = 0; o < O; o++)
            for (int l = 0; l < LANES; l++) part[o][l] = 0.0f;
        for (int64_t n = 0; n < body; n += LANES) {
            if (a->x_dt == BF16)
                for (int l = 0; l < LANES; l++) x[l] = bf2f(((const uint16_t *)a->X)[r * N + n + l]);
            else
                for (int l = 0; l < LANES; l++) x[l] = ((const float *)a->X)[r * N + n + l];
            for (int64_t o = 0; o < O; o++) {
                const float *w = a->W + o * N + n;
                for (int l = 0; l < LANES; l++) part[o][l] += x[l] * w[l];
            }
        }
        float *y = (float *)a->out + r * O;
        for (int64_t o = 0; o < O; o++) {
            float s = 0.0f;
            for (int l = 0; l < LANES; l++) s += part[o][l];
            for (int64_t n = body; n < N; n++) s += load(a->X, a->x_dt, r * N + n) * a->W[o * N + n];
            y[o] = (a->bias ? a->bias[o] : 0.0f) + s;
        }
    }
    return NULL;
}

static void *thin_input_grad_range(void *p) {
    thin_args *a = (thin_args *)p;
#if THIN_VECTOR
    thin_input_grad_v(a);
    return NULL;
#endif
    const int64_t N = a->N, O = a->O;
    float acc[BLK];
    for (int64_t r = a->lo; r < a->hi; r++) {
        const float *g = a->G + r * O;
        for (int64_t n0 = 0; n0 < N; n0 += BLK) {
            const int64_t nb = N - n0 < BLK ? N - n0 : BLK;
            const float *w = a->W + n0;
            for (int64_t j = 0; j < nb; j++) acc[j] = g[0] * w[j];
            for (int64_t o = 1; o < O; o++) {
                const float go = g[o];
                const float *wo = a->W + o * N + n0;
                for (int64_t j = 0; j < nb; j++) acc[j] += go * wo[j];
            }
            if (a->out_dt == BF16) {
                uint16_t *d = (uint16_t *)a->out + r * N + n0;
                for (int64_t j = 0; j < nb; j++) d[j] = f2bf(acc[j]);
            } else {
                memcpy((float *)a->out + r * N + n0, acc, (size_t)nb * sizeof(float));
            }
        }
    }
    return NULL;
}

/* columns of X one weight-gradient pass holds (portable: THIN_MAX x 32 floats; vector: 2 x THIN_MAX registers) */
#define THIN_COLS 32

static void *thin_weight_grad_range(void *p) {
    thin_args *a = (thin_args *)p; /* lo, hi: column chunks */
#if THIN_VECTOR
    thin_weight_grad_v(a);
    return NULL;
#endif
    const int64_t N = a->N, O = a->O;
    float acc[THIN_MAX][THIN_COLS], x[THIN_COLS];
    for (int64_t c = a->lo; c < a->hi; c++) {
        const int64_t n0 = c * THIN_COLS, nc = N - n0 < THIN_COLS ? N - n0 : THIN_COLS;
        for (int64_t o = 0; o < O; o++)
            for (int64_t j = 0; j < THIN_COLS; j++) acc[o][j] = 0.0f;
        for (int64_t r = 0; r < a->R; r++) {
            if (a->x_dt == BF16) {
                const uint16_t *xs = (const uint16_t *)a->X + r * N + n0;
                for (int64_t j = 0; j < nc; j++) x[j] = bf2f(xs[j]);
            } else {
                memcpy(x, (const float *)a->X + r * N + n0, (size_t)nc * sizeof(float));
            }
            for (int64_t j = nc; j < THIN_COLS; j++) x[j] = 0.0f;
            const float *g = a->G + r * O;
            for (int64_t o = 0; o < O; o++) {
                const float go = g[o];
                for (int64_t j = 0; j < THIN_COLS; j++) acc[o][j] += go * x[j];
            }
        }
        float *dw = (float *)a->out;
        for (int64_t o = 0; o < O; o++) memcpy(dw + o * N + n0, acc[o], (size_t)nc * sizeof(float));
    }
    return NULL;
}

/* kind 0: forward (out [R, O] fp32), 1: input grad (out [R, N] fp32/bf16), 2: weight grad (out [O, N] fp32).
 * Returns the threads used, or -1 when O is out of range. */
int snn_thin(int kind, int64_t R, int64_t N, int64_t O, const void *X, int x_dt, const float *W, const float *bias,
             const float *G, void *out, int out_dt, int nthreads) {
    if (O < 1 || O > THIN_MAX) return -1;
    void *(*fn)(void *) = kind == 0 ? thin_forward_range : (kind == 1 ? thin_input_grad_range : thin_weight_grad_range);
    const int64_t units = kind == 2 ? (N + THIN_COLS - 1) / THIN_COLS : R;
    int n = threads_for(units, nthreads);
    thin_args args[MAX_THREADS];
    for (int i = 0; i < n; i++)
        args[i] = (thin_args){units * i / n, units * (i + 1) / n, R, N, O, X, x_dt, W, bias, G, out, out_dt};
    run_threads(fn, args, sizeof(thin_args), n);
    return n;
}
