// Tried and not kept (docs/benchmarks-history.md, "Fusing the product and the gate pass"): one LSTM step of one part
// with the product and the gate pass fused, against the library's unfused step (rk_sgemm_packed for
// x·W_ihᵀ + bias and h·W_hhᵀ, then rk_lstm_row_forward per row), one thread, wall clock; checks they agree.
//   simple: 16-column panels holding the four gates of four units, x_t and h_{t-1} as one depth, the
//           activations run on a block's accumulators right after its product (MR = 6);
//   staged: MR = 4, a block's activations in six stages spread over the next block's multiply–adds.
// Build (from Benchmarks/Micro):
//   clang -O2 fusedlstm.c ../../Sources/CRecurrentKernels/avx2/SmallGEMMAVX2.c -I../../Sources/CRecurrentKernels/include -o fusedlstm -lm
//   ./fusedlstm 32 128 256 256 3000     # LSTM-256 step, one part; add any 6th argument to keep the gates (training)
//   ./fusedlstm 64 256 512 512 500      # LSTM-512, B = 64
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "../../Sources/CRecurrentKernels/avx2/GatesAVX2.c"     // rk_sigmoid, rk_tanh, rk_lstm_row_forward
#include "../../Sources/CRecurrentKernels/InstructionSet.c"   // rk_has_avx2_fma

static long rk_lstm_packed_size(long n, long k) { return ((n + 3) / 4) * 16 * k; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static float rnd(void) { return ((float)rand() / 2147483648.0f - 0.5f) * 0.2f; }

static void rk_pack_lstm(const float *wih, long ki, const float *whh, long kh, long H, long u0, long n, float *dst) {
    long k = ki + kh;
    for (long q = 0; 4 * q < n; q++) {
        float *panel = dst + q * 16 * k;
        for (long g = 0; g < 4; g++) {
            for (long j = 0; j < 4; j++) {
                long r = 4 * g + j, unit = u0 + 4 * q + j;
                if (4 * q + j >= n) {
                    for (long p = 0; p < k; p++) panel[p * 16 + r] = 0;
                    continue;
                }
                const float *a = wih + (g * H + unit) * ki, *b = whh + (g * H + unit) * kh;
                for (long p = 0; p < ki; p++) panel[p * 16 + r] = a[p];
                for (long p = 0; p < kh; p++) panel[(ki + p) * 16 + r] = b[p];
            }
        }
    }
}

static void rk_pack_lstm_bias(const float *bias, long H, long u0, long n, float *dst) {
    for (long q = 0; 4 * q < n; q++) {
        for (long g = 0; g < 4; g++) {
            for (long j = 0; j < 4; j++) {
                long unit = u0 + 4 * q + j;
                dst[16 * q + 4 * g + j] = bias && 4 * q + j < n ? bias[g * H + unit] : 0;
            }
        }
    }
}

RK_AVX2 static inline __m256 rk_two_rows(const float *lo, const float *hi) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
}

RK_AVX2 static inline void rk_store_two_rows(float *lo, float *hi, __m256 v, int both) {
    _mm_storeu_ps(lo, _mm256_castps256_ps128(v));
    if (both) _mm_storeu_ps(hi, _mm256_extractf128_ps(v, 1));
}


typedef struct {
    const float *cprev; float *cnext; long ldc;
    float *hnext; long ldh;
    float *gates; long ldg, H;
    float *tanhc; long ldt;
} simple_out;

/// Rows r and r2 (r2 == r for a lone last row) of a block, right after its product.
RK_AVX2 __attribute__((always_inline)) static inline void simple_pair(__m256 a0, __m256 b0, __m256 a1, __m256 b1,
                                                                     long r, long r2, const simple_out *o) {
    int both = r2 != r;
    __m256 i = rk_sigmoid(_mm256_permute2f128_ps(a0, a1, 0x20));
    __m256 f = rk_sigmoid(_mm256_permute2f128_ps(a0, a1, 0x31));
    __m256 g = rk_tanh(_mm256_permute2f128_ps(b0, b1, 0x20));
    __m256 og = rk_sigmoid(_mm256_permute2f128_ps(b0, b1, 0x31));
    __m256 c = _mm256_fmadd_ps(f, rk_two_rows(o->cprev + r * o->ldc, o->cprev + r2 * o->ldc), _mm256_mul_ps(i, g));
    __m256 t = rk_tanh(c);
    rk_store_two_rows(o->cnext + r * o->ldc, o->cnext + r2 * o->ldc, c, both);
    rk_store_two_rows(o->hnext + r * o->ldh, o->hnext + r2 * o->ldh, _mm256_mul_ps(og, t), both);
    if (o->tanhc) rk_store_two_rows(o->tanhc + r * o->ldt, o->tanhc + r2 * o->ldt, t, both);
    if (o->gates) {
        float *g0 = o->gates + r * o->ldg, *g1 = o->gates + r2 * o->ldg;
        long H = o->H;
        rk_store_two_rows(g0, g1, i, both);
        rk_store_two_rows(g0 + H, g1 + H, f, both);
        rk_store_two_rows(g0 + 2 * H, g1 + 2 * H, g, both);
        rk_store_two_rows(g0 + 3 * H, g1 + 3 * H, og, both);
    }
}

RK_AVX2 __attribute__((always_inline)) static inline void simple_block(
    const int MR, const float *x, long ldx, long ki, const float *h, long ldh, long kh, const float *panel,
    const float *bias16, const simple_out *o) {
    __m256 c0[6], c1[6];
    __m256 s0 = _mm256_loadu_ps(bias16), s1 = _mm256_loadu_ps(bias16 + 8);
    for (int r = 0; r < MR; r++) { c0[r] = s0; c1[r] = s1; }
    for (long p = 0; p < ki; p++) {
        __m256 w0 = _mm256_loadu_ps(panel + p * 16), w1 = _mm256_loadu_ps(panel + p * 16 + 8);
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_broadcast_ss(x + r * ldx + p);
            c0[r] = _mm256_fmadd_ps(av, w0, c0[r]);
            c1[r] = _mm256_fmadd_ps(av, w1, c1[r]);
        }
    }
    const float *hp = panel + ki * 16;
    for (long p = 0; p < kh; p++) {
        __m256 w0 = _mm256_loadu_ps(hp + p * 16), w1 = _mm256_loadu_ps(hp + p * 16 + 8);
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_broadcast_ss(h + r * ldh + p);
            c0[r] = _mm256_fmadd_ps(av, w0, c0[r]);
            c1[r] = _mm256_fmadd_ps(av, w1, c1[r]);
        }
    }
    for (int r = 0; r < MR; r += 2) {
        int r2 = r + 1 < MR ? r + 1 : r;
        simple_pair(c0[r], c1[r], c0[r2], c1[r2], r, r2, o);
    }
}

RK_AVX2 static void simple_block_rows(long rows, const float *x, long ldx, long ki, const float *h, long ldh, long kh,
                                      const float *panel, const float *bias16, const simple_out *o) {
    switch (rows) {
    case 6: simple_block(6, x, ldx, ki, h, ldh, kh, panel, bias16, o); break;
    case 5: simple_block(5, x, ldx, ki, h, ldh, kh, panel, bias16, o); break;
    case 4: simple_block(4, x, ldx, ki, h, ldh, kh, panel, bias16, o); break;
    case 3: simple_block(3, x, ldx, ki, h, ldh, kh, panel, bias16, o); break;
    case 2: simple_block(2, x, ldx, ki, h, ldh, kh, panel, bias16, o); break;
    default: simple_block(1, x, ldx, ki, h, ldh, kh, panel, bias16, o); break;
    }
}

RK_AVX2 static void simple_step(long m, long n, const float *x, long ldx, long ki, const float *h, long ldh, long kh,
                                const float *packed, const float *bias16, const float *cprev, float *cnext, long ldc,
                                float *hnext, long ldhn, float *gates, long ldg, long H, float *tanhc, long ldt) {
    long k = ki + kh;
    for (long q = 0; 4 * q < n; q++) {
        const float *panel = packed + q * 16 * k;
        long u = 4 * q, i = 0;
        while (i < m) {
            long left = m - i, rows = left >= 12 || left <= 6 ? (left < 6 ? left : 6) : (left + 1) / 2;
            simple_out o = { cprev + i * ldc + u, cnext + i * ldc + u, ldc, hnext + i * ldhn + u, ldhn,
                             gates ? gates + i * ldg + u : 0, ldg, H, tanhc ? tanhc + i * ldt + u : 0, ldt };
            simple_block_rows(rows, x + i * ldx, ldx, ki, h + i * ldh, ldh, kh, panel, bias16 + 16 * q, &o);
            i += rows;
        }
    }
}

/// A finished block of up to 4 rows waiting for its gates: its accumulators, where its results go, and
/// the activations computed so far. Its stages run inside the next block's multiply–add loop.
typedef struct {
    __m256 acc[4][2];                        // row r: [i₀…i₃ f₀…f₃], [g₀…g₃ o₀…o₃]
    __m256 i[2], f[2], g[2], o[2];           // per pair of rows (r, r2): lanes 0–3 row r, 4–7 row r2
    long rows;                               // 0: nothing pending
    const float *cprev; float *cnext; long ldc;
    float *hnext; long ldh;
    float *gates; long ldg, H;               // gate g of a row at gates + g·H; null in inference
    float *tanhc; long ldt;                  // null in inference
} rk_lstm_tile;

/// Stage s (0–5) of a pending tile: pair k = s / 3 (rows 2k, 2k + 1), step s % 3: σ of i and f; tanh of g
/// and σ of o; then c_t = f ⊙ c_{t-1} + i ⊙ g, tanh c_t, h_t = o ⊙ tanh c_t and the stores. Each stage is a
/// short chain of about 40 instructions; placed between runs of the next block's multiply–adds, its
/// latency hides behind them (the activations alone are latency-bound: 20 µs per 32 × 128 units).
RK_AVX2 __attribute__((always_inline)) static inline void rk_lstm_stage(rk_lstm_tile *t, int s) {
    int k = s / 3;
    long r = 2 * k, r2 = r + 1 < t->rows ? r + 1 : r;
    if (r >= t->rows) return;
    switch (s % 3) {
    case 0:
        t->i[k] = rk_sigmoid(_mm256_permute2f128_ps(t->acc[r][0], t->acc[r2][0], 0x20));
        t->f[k] = rk_sigmoid(_mm256_permute2f128_ps(t->acc[r][0], t->acc[r2][0], 0x31));
        break;
    case 1:
        t->g[k] = rk_tanh(_mm256_permute2f128_ps(t->acc[r][1], t->acc[r2][1], 0x20));
        t->o[k] = rk_sigmoid(_mm256_permute2f128_ps(t->acc[r][1], t->acc[r2][1], 0x31));
        break;
    default: {
        int both = r2 != r;
        __m256 i = t->i[k], f = t->f[k], g = t->g[k], o = t->o[k];
        __m256 c = _mm256_fmadd_ps(f, rk_two_rows(t->cprev + r * t->ldc, t->cprev + r2 * t->ldc), _mm256_mul_ps(i, g));
        __m256 th = rk_tanh(c);
        rk_store_two_rows(t->cnext + r * t->ldc, t->cnext + r2 * t->ldc, c, both);
        rk_store_two_rows(t->hnext + r * t->ldh, t->hnext + r2 * t->ldh, _mm256_mul_ps(o, th), both);
        if (t->tanhc) rk_store_two_rows(t->tanhc + r * t->ldt, t->tanhc + r2 * t->ldt, th, both);
        if (t->gates) {
            float *g0 = t->gates + r * t->ldg, *g1 = t->gates + r2 * t->ldg;
            long H = t->H;
            rk_store_two_rows(g0, g1, i, both);
            rk_store_two_rows(g0 + H, g1 + H, f, both);
            rk_store_two_rows(g0 + 2 * H, g1 + 2 * H, g, both);
            rk_store_two_rows(g0 + 3 * H, g1 + 3 * H, o, both);
        }
    }
    }
}

/// MR ≤ 4 rows of one group: the product over the depth ki + kh, with the pending tile's six stages spread
/// over it; then this block becomes the pending tile (its destinations in `next`).
RK_AVX2 __attribute__((always_inline)) static inline void staged_block(
    const int MR, const float *x, long ldx, long ki, const float *h, long ldh, long kh, const float *panel,
    const float *bias16, rk_lstm_tile *pending, const rk_lstm_tile *next) {
    __m256 c0[4], c1[4];
    __m256 s0 = _mm256_loadu_ps(bias16), s1 = _mm256_loadu_ps(bias16 + 8);
    for (int r = 0; r < MR; r++) { c0[r] = s0; c1[r] = s1; }
    long k = ki + kh, p = 0;
    for (int s = 0; s < 6; s++) {
        long end = k * (s + 1) / 6;
        for (; p < end && p < ki; p++) {
            __m256 w0 = _mm256_loadu_ps(panel + p * 16), w1 = _mm256_loadu_ps(panel + p * 16 + 8);
            for (int r = 0; r < MR; r++) {
                __m256 av = _mm256_broadcast_ss(x + r * ldx + p);
                c0[r] = _mm256_fmadd_ps(av, w0, c0[r]);
                c1[r] = _mm256_fmadd_ps(av, w1, c1[r]);
            }
        }
        for (; p < end; p++) {
            __m256 w0 = _mm256_loadu_ps(panel + p * 16), w1 = _mm256_loadu_ps(panel + p * 16 + 8);
            for (int r = 0; r < MR; r++) {
                __m256 av = _mm256_broadcast_ss(h + r * ldh + p - ki);
                c0[r] = _mm256_fmadd_ps(av, w0, c0[r]);
                c1[r] = _mm256_fmadd_ps(av, w1, c1[r]);
            }
        }
        rk_lstm_stage(pending, s);
    }
    *pending = *next;
    for (int r = 0; r < MR; r++) { pending->acc[r][0] = c0[r]; pending->acc[r][1] = c1[r]; }
    pending->rows = MR;
}

RK_AVX2 static void staged_block_rows(long rows, const float *x, long ldx, long ki, const float *h, long ldh, long kh,
                                       const float *panel, const float *bias16, rk_lstm_tile *pending,
                                       const rk_lstm_tile *next) {
    switch (rows) {                                    // constant MR: the accumulators stay in registers
    case 4: staged_block(4, x, ldx, ki, h, ldh, kh, panel, bias16, pending, next); break;
    case 3: staged_block(3, x, ldx, ki, h, ldh, kh, panel, bias16, pending, next); break;
    case 2: staged_block(2, x, ldx, ki, h, ldh, kh, panel, bias16, pending, next); break;
    default: staged_block(1, x, ldx, ki, h, ldh, kh, panel, bias16, pending, next); break;
    }
}

RK_AVX2 void staged_step(long m, long n, const float *x, long ldx, long ki, const float *h, long ldh, long kh,
                                 const float *packed, const float *bias16,
                                 const float *cprev, float *cnext, long ldc, float *hnext, long ldhn,
                                 float *gates, long ldg, long H, float *tanhc, long ldt) {
    long k = ki + kh;
    // Rows in chunks of about 192 KiB of x_t and h_{t-1}, which stay in L2 while every group's panel
    // passes over them (as in rk_sgemm_packed).
    long chunk = 49152 / (k > 0 ? k : 1) / 4 * 4;
    if (chunk < 4) chunk = 4;
    rk_lstm_tile pending = {0}, next = {0};
    for (long i0 = 0; i0 < m; i0 += chunk) {
        long i1 = m - i0 < chunk ? m : i0 + chunk;
        for (long q = 0; 4 * q < n; q++) {             // group outer: its panel stays in L1/L2 across the row blocks
            const float *panel = packed + q * 16 * k;
            long u = 4 * q;
            for (long i = i0; i < i1; i += 4) {
                long rows = i1 - i < 4 ? i1 - i : 4;
                next.cprev = cprev + i * ldc + u; next.cnext = cnext + i * ldc + u; next.ldc = ldc;
                next.hnext = hnext + i * ldhn + u; next.ldh = ldhn;
                next.gates = gates ? gates + i * ldg + u : 0; next.ldg = ldg; next.H = H;
                next.tanhc = tanhc ? tanhc + i * ldt + u : 0; next.ldt = ldt;
                staged_block_rows(rows, x + i * ldx, ldx, ki, h + i * ldh, ldh, kh, panel, bias16 + 16 * q, &pending, &next);
            }
        }
    }
    for (int s = 0; s < 6; s++) rk_lstm_stage(&pending, s);   // the last block's gates
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: lstmstep B n H I ITERS [train]\n"); return 2; }
    long B = atol(argv[1]), n = atol(argv[2]), H = atol(argv[3]), I = atol(argv[4]), iters = atol(argv[5]), P = H;
    int train = argc > 6;
    float *x = malloc(4 * B * I), *h = malloc(4 * B * P), *wih = malloc(4 * 4 * H * I), *whh = malloc(4 * 4 * H * P), *bias = malloc(4 * 4 * H);
    float *cp = malloc(4 * B * H), *cn = malloc(4 * B * H), *hn = malloc(4 * B * P), *g = malloc(4 * B * 4 * H), *tc = malloc(4 * B * H);
    float *cn2 = malloc(4 * B * H), *hn2 = malloc(4 * B * P);
    for (long i = 0; i < B * I; i++) x[i] = rnd() * 10;
    for (long i = 0; i < B * P; i++) h[i] = rnd() * 10;
    for (long i = 0; i < 4 * H * I; i++) wih[i] = rnd();
    for (long i = 0; i < 4 * H * P; i++) whh[i] = rnd();
    for (long i = 0; i < 4 * H; i++) bias[i] = rnd();
    for (long i = 0; i < B * H; i++) cp[i] = rnd() * 10;
    // unfused: per gate block panels of n rows, as FusedRecurrence does for a part (units 0..<n)
    float *pih[4], *phh[4], *xw = malloc(4 * B * 4 * n), *hw = malloc(4 * B * 4 * n);
    for (int q = 0; q < 4; q++) {
        pih[q] = malloc(4 * rk_packed_panel_size(n, I)); phh[q] = malloc(4 * rk_packed_panel_size(n, P));
        rk_pack_panels(wih + q * H * I, I, 1, n, I, pih[q]); rk_pack_panels(whh + q * H * P, P, 1, n, P, phh[q]);
    }
    float *pk = malloc(4 * rk_lstm_packed_size(n, I + P)), *b16 = malloc(4 * 4 * n);
    rk_pack_lstm(wih, I, whh, P, H, 0, n, pk); rk_pack_lstm_bias(bias, H, 0, n, b16);
    double t0 = now();
    for (long r = 0; r < iters; r++) {
        for (int q = 0; q < 4; q++) {
            rk_sgemm_packed(B, n, I, x, I, pih[q], bias + q * H, xw + q * n, 4 * n);
            rk_sgemm_packed(B, n, P, h, P, phh[q], NULL, hw + q * n, 4 * n);
        }
        for (long b = 0; b < B; b++) rk_lstm_row_forward(xw + b * 4 * n, hw + b * 4 * n, g + b * 4 * H, cp + b * H, cn + b * H, hn + b * P, tc + b * H, n, n, n);
    }
    double t1 = now();
    for (long r = 0; r < iters; r++)
        simple_step(B, n, x, I, I, h, P, P, pk, b16, cp, cn2, H, hn2, P, train ? g : NULL, 4 * H, H, train ? tc : NULL, H);
    double t2 = now();
    double errSimple = 0;
    for (long b = 0; b < B; b++) for (long j = 0; j < n; j++) { errSimple = fmax(errSimple, fabs(hn[b * P + j] - hn2[b * P + j])); errSimple = fmax(errSimple, fabs(cn[b * H + j] - cn2[b * H + j])); }
    for (long r = 0; r < iters; r++)
        staged_step(B, n, x, I, I, h, P, P, pk, b16, cp, cn2, H, hn2, P, train ? g : NULL, 4 * H, H, train ? tc : NULL, H);
    double t3 = now();
    double err = 0;
    for (long b = 0; b < B; b++) for (long j = 0; j < n; j++) { err = fmax(err, fabs(hn[b * P + j] - hn2[b * P + j])); err = fmax(err, fabs(cn[b * H + j] - cn2[b * H + j])); }
    double flops = 2.0 * B * 4 * n * (I + P) * iters;
    printf("B %ld n %ld H %ld I %ld%s: unfused %.1f us (%.1f GFLOP/s), fused %.1f us, fused and staged %.1f us, max |diff| %.2g / %.2g\n",
           B, n, H, I, train ? " (gates kept)" : "", (t1 - t0) / iters * 1e6, flops / (t1 - t0) / 1e9, (t2 - t1) / iters * 1e6,
           (t3 - t2) / iters * 1e6, errSimple, err);
    return 0;
}
