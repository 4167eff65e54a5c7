// rk_sgemm_packed (avx2/SmallGEMMAVX2.c) cycling through NB packed operands B of N × K, the way a layer step
// alternates its W_ih and W_hh parts: whether the kernel keeps its rate when B no longer fits in L2.
// Run two at once to load both cores (docs/benchmarks-history.md, "What changed since the dbabd53 table").
//   clang -O2 sgemmcycle.c ../../Sources/CRecurrentKernels/avx2/SmallGEMMAVX2.c ../../Sources/CRecurrentKernels/InstructionSet.c -I../../Sources/CRecurrentKernels/include -o sgemmcycle
//   ./sgemmcycle 32 128 256 8 2500          # 8 operands of 128 KB: 1 MiB, one LSTM-256 part's weights
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "RecurrentKernels.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: sgemmcycle M N K NB ITERS\n"); return 2; }
    long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]), NB = atol(argv[4]), iters = atol(argv[5]);
    float *a = malloc(sizeof(float) * M * K), *c = malloc(sizeof(float) * M * N * NB), *b = malloc(sizeof(float) * N * K);
    for (long i = 0; i < M * K; i++) a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < N * K; i++) b[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    float **packed = malloc(sizeof(float *) * NB);
    for (long j = 0; j < NB; j++) {
        packed[j] = malloc(sizeof(float) * rk_packed_panel_size(N, K));
        rk_pack_panels(b, K, 1, N, K, packed[j]);
    }
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (long it = 0; it < iters; it++)
            for (long j = 0; j < NB; j++) rk_sgemm_packed(M, N, K, a, K, packed[j], NULL, c + j * M * N, N);
        double t = now() - t0;
        printf("M=%ld N=%ld K=%ld, %ld operands (%.0f KB): %.1f GFLOP/s\n", M, N, K, NB, NB * N * K * 4 / 1024.0,
               2.0 * M * N * K * NB * iters / t / 1e9);
    }
    return 0;
}
