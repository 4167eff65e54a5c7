// The AVX-512 int8 and bf16 products (Sources/CRecurrentKernels/avx512/QuantizedAVX512.c) compiled against SIMD
// Everywhere (-DRK_EMULATE_AVX512) and checked on random shapes with tails: the VNNI int8 product against the
// AVX2 one (avx2/QuantizedAVX2.c, native) bit for bit (both sum the same integers exactly); the AVX512-BF16
// product, which rounds A to bf16 as well, against a Double reference within the bound of that rounding.
// `make quantized-emulation-test` builds and runs it; it needs a processor with AVX2 + FMA.
#include "RecurrentKernels.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;
static uint64_t state = 0x2545F4914F6CDD1Dull;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 40) / 16777216.0); }
static long below(long n) { return (long)(next() % (uint64_t)n); }

static uint16_t to_bf16(float x) {
    uint32_t b; memcpy(&b, &x, 4);
    return (uint16_t)((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}
static float widen(uint16_t h) { uint32_t b = (uint32_t)h << 16; float x; memcpy(&x, &b, 4); return x; }

static void check(long m, long n, long k) {
    long kp = (k + 31) & ~31L, kb = (k + 7) & ~7L;
    float *a = malloc(sizeof(float) * (size_t)(m * k)), *bias = malloc(sizeof(float) * (size_t)n);
    int8_t *w = calloc((size_t)(n * kp), 1);
    uint16_t *wb = calloc((size_t)(n * kb), 2);
    float *wscale = malloc(sizeof(float) * (size_t)n);
    int32_t *wsum = calloc((size_t)n, 4);
    for (long i = 0; i < m * k; i++) a[i] = uniform(-1.5f, 2.5f);
    for (long j = 0; j < n; j++) {
        bias[j] = uniform(-1, 1);
        wscale[j] = uniform(0.001f, 0.02f);
        for (long p = 0; p < k; p++) {
            w[j * kp + p] = (int8_t)(below(255) - 127);      // every value in −127…127, the extremes included
            wsum[j] += w[j * kp + p];
            wb[j * kb + p] = to_bf16(uniform(-0.5f, 0.5f));
        }
    }
    uint8_t *q = malloc((size_t)(m * kp));
    float *s = malloc(sizeof(float) * (size_t)m), *c0 = malloc(sizeof(float) * (size_t)(m * n)), *c1 = malloc(sizeof(float) * (size_t)(m * n));
    int32_t *z = malloc(sizeof(int32_t) * (size_t)m);
    rk_q8_quantize_rows(m, k, kp, a, k, q, kp, s, z);
    for (int withBias = 0; withBias < 2; withBias++) {
        rk_q8_gemm(m, n, kp, q, kp, s, z, w, kp, wscale, wsum, withBias ? bias : NULL, c0, n);
        rk_q8_gemm_vnni(m, n, kp, q, kp, s, z, w, kp, wscale, wsum, withBias ? bias : NULL, c1, n);
        checks++;
        if (memcmp(c0, c1, sizeof(float) * (size_t)(m * n)) != 0) {
            failures++;
            for (long i = 0; i < m * n; i++)
                if (c0[i] != c1[i]) { fprintf(stderr, "FAIL int8 (%ld, %ld, %ld) [%ld]: vnni %.9g, avx2 %.9g\n", m, n, k, i, c1[i], c0[i]); break; }
        }
    }
    rk_bf16_gemm_avx512(m, n, k, a, k, wb, kb, bias, c1, n);
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            double exact = bias[j], magnitude = fabs(bias[j]);
            for (long p = 0; p < k; p++) { double x = (double)a[i * k + p] * widen(wb[j * kb + p]); exact += x; magnitude += fabs(x); }
            double bound = magnitude * (1.0 / 256 + (double)(k + 2) * 0x1p-24);   // A's rounding to bf16, then fp32 sums
            checks++;
            if (!(fabs(c1[i * n + j] - exact) <= bound)) {
                failures++;
                fprintf(stderr, "FAIL bf16 (%ld, %ld, %ld) [%ld, %ld]: %.9g, exact %.9g, bound %.3g\n", m, n, k, i, j, c1[i * n + j], exact, bound);
            }
        }
    free(a); free(bias); free(w); free(wb); free(wscale); free(wsum); free(q); free(s); free(c0); free(c1); free(z);
}

int main(void) {
    if (!rk_has_avx2_fma()) { printf("quantized emulation test skipped: no AVX2 + FMA\n"); return 0; }
    const long shapes[][3] = {{1, 1, 1}, {1, 7, 31}, {1, 65, 512}, {3, 5, 33}, {4, 9, 64}, {5, 17, 96}, {9, 130, 100}, {64, 24, 512}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check(shapes[i][0], shapes[i][1], shapes[i][2]);
    for (int r = 0; r < 20; r++) check(1 + below(12), 1 + below(40), 1 + below(300));
    printf("quantized emulation test: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
