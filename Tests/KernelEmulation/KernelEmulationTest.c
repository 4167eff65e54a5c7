// The AVX-512 kernels (Sources/CRecurrentKernels/avx512/) compiled against SIMD Everywhere
// (-DRK_EMULATE_AVX512), checked against the AVX2 kernels (avx2/, native) on random shapes with tails:
// the gate kernels and the packed product bit for bit, the matrix–vector product (another summation
// order) against a Double reference within the bound of its rounding. `make kernel-emulation-test`
// builds and runs it; it needs a processor with AVX2 + FMA (the emulation's halves and the reference).
#include "RecurrentKernels.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;
static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 40) / 16777216.0); }
static long below(long n) { return (long)(next() % (uint64_t)n); }

static float *randoms(long count, float lo, float hi) {
    float *p = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    for (long i = 0; i < count; i++) p[i] = uniform(lo, hi);
    return p;
}
static float *filled(long count, float value) {
    float *p = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    for (long i = 0; i < count; i++) p[i] = value;
    return p;
}
/// Bit-for-bit equality of two buffers (NaNs included); reports the first difference.
static void same_bits(const float *a, const float *b, long count, const char *what, long n) {
    checks++;
    if (memcmp(a, b, sizeof(float) * (size_t)count) == 0) return;
    for (long i = 0; i < count; i++) {
        uint32_t x, y; memcpy(&x, a + i, 4); memcpy(&y, b + i, 4);
        if (x != y) { fprintf(stderr, "FAIL %s n=%ld: [%ld] avx512 %.9g (0x%08x), avx2 %.9g (0x%08x)\n", what, n, i, a[i], x, b[i], y); break; }
    }
    failures++;
}

// Inputs in [-12, 12) (saturating sigmoid and tanh), with a few specials: ±∞, NaN, ±0, huge values.
static void sprinkle(float *p, long count) {
    const float specials[] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, 1e30f, -1e30f, 88.5f, -88.5f, 9.2f};
    for (long i = 0; i < count; i++) if (below(9) == 0) p[i] = specials[below(10)];
}

static void check_gates(long n) {
    long H = n + 3, HS = n + 1;                    // gate blocks H apart; the recurrent term's HS apart
    float *xr = randoms(4 * H, -12, 12), *hr = randoms(4 * HS, -12, 12), *cp = randoms(H, -3, 3), *bhn = randoms(H, -1, 1);
    float *dm = randoms(H, -2, 2), *dc0 = randoms(H, -2, 2);
    sprinkle(xr, 4 * H);
    float *out[2][8];
    for (int v = 0; v < 2; v++) for (int b = 0; b < 8; b++) out[v][b] = filled(4 * H, 7.0f);   // untouched lanes stay 7
    // LSTM forward then backward on its own outputs (g, tc), both paths.
    rk_lstm_row_forward(xr, hr, out[1][0], cp, out[1][1], out[1][2], out[1][3], n, H, HS);
    rk_avx512_lstm_row_forward(xr, hr, out[0][0], cp, out[0][1], out[0][2], out[0][3], n, H, HS);
    same_bits(out[0][0], out[1][0], 4 * H, "lstm forward gates", n);
    same_bits(out[0][1], out[1][1], 4 * H, "lstm forward c", n);
    same_bits(out[0][2], out[1][2], 4 * H, "lstm forward m", n);
    same_bits(out[0][3], out[1][3], 4 * H, "lstm forward tanh c", n);
    float *g = randoms(4 * H, 0, 1), *tc = randoms(H, -1, 1);
    for (int v = 0; v < 2; v++) memcpy(out[v][4], dc0, sizeof(float) * (size_t)H);
    rk_lstm_row_backward(g, cp, tc, dm, out[1][4], out[1][5], n, H);
    rk_avx512_lstm_row_backward(g, cp, tc, dm, out[0][4], out[0][5], n, H);
    same_bits(out[0][4], out[1][4], 4 * H, "lstm backward dc", n);
    same_bits(out[0][5], out[1][5], 4 * H, "lstm backward dgx", n);
    for (int withBias = 0; withBias < 2; withBias++) {
        const float *b = withBias ? bhn : NULL;
        rk_gru_row_forward(xr, hr, b, out[1][6], cp, out[1][7], out[1][1], n, H, HS);
        rk_avx512_gru_row_forward(xr, hr, b, out[0][6], cp, out[0][7], out[0][1], n, H, HS);
        same_bits(out[0][6], out[1][6], 4 * H, withBias ? "gru forward gates (b_hn)" : "gru forward gates", n);
        same_bits(out[0][7], out[1][7], 4 * H, "gru forward h", n);
        same_bits(out[0][1], out[1][1], 4 * H, "gru forward saved h_n", n);
    }
    rk_tanh_row_forward(xr, hr, out[1][2], n);
    rk_avx512_tanh_row_forward(xr, hr, out[0][2], n);
    same_bits(out[0][2], out[1][2], 4 * H, "tanh forward", n);
    for (int v = 0; v < 2; v++) for (int b = 0; b < 8; b++) free(out[v][b]);
    free(xr); free(hr); free(cp); free(bhn); free(dm); free(dc0); free(g); free(tc);
}

static void check_gemm(long m, long n, long k, int withBias, int transposed) {
    float *a = randoms(m * k, -1, 1), *w = randoms(n * k, -1, 1), *bias = randoms(n, -1, 1);
    float *packed = malloc(sizeof(float) * (size_t)rk_packed_panel_size(n, k));
    // B (n, k): W's rows, or Wᵀ (k, n) read by columns.
    rk_pack_panels(w, transposed ? 1 : k, transposed ? n : 1, n, k, packed);
    long ldc = n + 3;
    float *c512 = filled(m * ldc, 7.0f), *c2 = filled(m * ldc, 7.0f);
    rk_avx512_sgemm_packed(m, n, k, a, k, packed, withBias ? bias : NULL, c512, ldc);
    rk_sgemm_packed(m, n, k, a, k, packed, withBias ? bias : NULL, c2, ldc);
    char what[96];
    snprintf(what, sizeof what, "sgemm_packed m=%ld k=%ld bias=%d transposed=%d", m, k, withBias, transposed);
    same_bits(c512, c2, m * ldc, what, n);
    // And both against the Double product (the extra columns still 7).
    int bad = 0;
    for (long i = 0; i < m && !bad; i++) {
        for (long j = 0; j < n; j++) {
            double s = withBias ? bias[j] : 0, bound = fabs(s);
            for (long p = 0; p < k; p++) {
                double b = transposed ? w[p * n + j] : w[j * k + p];
                s += (double)a[i * k + p] * b; bound += fabs((double)a[i * k + p] * b);
            }
            if (fabs(c512[i * ldc + j] - s) > (k + 1) * 6e-8 * bound + 1e-30) bad = 1;
        }
        for (long j = n; j < ldc; j++) if (c512[i * ldc + j] != 7.0f) bad = 1;
    }
    checks++;
    if (bad) { fprintf(stderr, "FAIL %s n=%ld: far from the Double product\n", what, n); failures++; }
    free(a); free(w); free(bias); free(packed); free(c512); free(c2);
}

static void check_gemv(long n, long k, int accumulate) {
    long ldw = k + 2;
    float *w = randoms(n * ldw, -1, 1), *x = randoms(k, -1, 1), *y0 = randoms(n + 2, -1, 1);
    float *y = malloc(sizeof(float) * (size_t)(n + 2));
    memcpy(y, y0, sizeof(float) * (size_t)(n + 2));
    long row0 = n > 2 ? 1 : 0;                                     // a row range not starting at 0
    rk_avx512_sgemv_rows(w, ldw, x, y, row0, n, k, accumulate);
    int bad = 0;
    for (long r = 0; r < n + 2; r++) {
        if (r < row0 || r >= n) { if (y[r] != y0[r]) bad = 1; continue; }
        double s = accumulate ? y0[r] : 0, bound = fabs(s);
        for (long j = 0; j < k; j++) { s += (double)w[r * ldw + j] * x[j]; bound += fabs((double)w[r * ldw + j] * x[j]); }
        if (fabs(y[r] - s) > (k + 2) * 6e-8 * bound + 1e-30) { bad = 1; fprintf(stderr, "  row %ld: %.9g, want %.9g\n", r, y[r], s); }
    }
    checks++;
    if (bad) { fprintf(stderr, "FAIL sgemv_rows n=%ld k=%ld accumulate=%d\n", n, k, accumulate); failures++; }
    free(w); free(x); free(y0); free(y);
}

int main(void) {
    if (!rk_has_avx2_fma()) {
        printf("kernel emulation test skipped: this processor has no AVX2 + FMA (the AVX2 kernels are the reference)\n");
        return 0;
    }
    const long counts[] = {1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 37, 48, 63, 64, 65, 100, 129};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) check_gates(counts[i]);
    for (int t = 0; t < 40; t++) check_gates(1 + below(300));
    // Every row-block size (1–12, the 13–23 split), one and two panels, partial panels, odd depths, L2 chunks.
    const long shapes[][3] = {{1, 1, 1}, {5, 17, 3}, {7, 16, 33}, {13, 40, 64}, {32, 100, 57}, {11, 8, 250}, {23, 33, 7},
                              {24, 32, 16}, {64, 48, 31}, {3, 65, 129}, {200, 20, 300}, {1, 31, 2}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int b = 0; b < 2; b++) for (int tr = 0; tr < 2; tr++) check_gemm(shapes[i][0], shapes[i][1], shapes[i][2], b, tr);
    for (int t = 0; t < 60; t++) check_gemm(1 + below(40), 1 + below(90), 1 + below(90), (int)below(2), (int)below(2));
    const long vectors[][2] = {{1, 1}, {4, 16}, {5, 17}, {37, 29}, {64, 256}, {3, 15}, {9, 33}, {130, 70}};
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) for (int acc = 0; acc < 2; acc++) check_gemv(vectors[i][0], vectors[i][1], acc);
    for (int t = 0; t < 40; t++) check_gemv(1 + below(70), 1 + below(200), (int)below(2));
    printf("kernel emulation test (AVX-512 through SIMD Everywhere against AVX2): %d checks, %d failed "
           "(LSTM forward/backward, GRU forward, tanh forward, packed sgemm bit for bit; sgemv within its rounding bound)\n",
           checks, failures);
    return failures ? 1 : 0;
}
