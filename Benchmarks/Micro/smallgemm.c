// The recurrent steps' small product: OpenBLAS sgemm (A·Bᵀ, B (n, k) row-major) against rk_sgemm_packed
// (avx2/SmallGEMMAVX2.c) with B packed once, one thread, wall clock; also checks the two agree.
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "RecurrentKernels.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: smallgemm M N K ITERS\n"); return 2; }
    long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]), iters = atol(argv[4]);
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * N * K);
    float *pk = malloc(sizeof(float) * rk_packed_panel_size(N, K)), *c = malloc(sizeof(float) * M * N), *ref = malloc(sizeof(float) * M * N);
    for (long i = 0; i < M * K; i++) a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < N * K; i++) b[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    rk_pack_panels(b, K, 1, N, K, pk);                 // first touch of pk
    double tp = now();
    rk_pack_panels(b, K, 1, N, K, pk);
    tp = now() - tp;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, ref, N);
    rk_sgemm_packed(M, N, K, a, K, pk, NULL, c, N);
    double err = 0;
    for (long i = 0; i < M * N; i++) err = fmax(err, fabs(c[i] - ref[i]));
    double flops = 2.0 * M * N * K * iters;
    double t0 = now();
    for (long r = 0; r < iters; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, ref, N);
    double t1 = now();
    for (long r = 0; r < iters; r++) rk_sgemm_packed(M, N, K, a, K, pk, NULL, c, N);
    double t2 = now();
    printf("M %ld N %ld K %ld: sgemm %.1f GFLOP/s, packed %.1f GFLOP/s (pack once: %.0f us), max |diff| %.2g\n",
           M, N, K, flops / (t1 - t0) / 1e9, flops / (t2 - t1) / 1e9, tp * 1e6, err);
    return 0;
}
