// The LSTM gate pass of one part (B rows × n units, as FusedRecurrence runs it for lstm-256 on two cores):
// the library's `rk_lstm_row_forward` (three passes over the row) against the single pass it replaced,
// one thread, with a check that both give the same bits.
//   clang -O2 gatepass.c -I../../Sources/CRecurrentKernels/include -o gatepass -lm && ./gatepass 32 128 256 20000
#include "../../Sources/CRecurrentKernels/avx2/GatesAVX2.c"
#include "../../Sources/CRecurrentKernels/InstructionSet.c"   // rk_has_avx2_fma
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static float uniform(float a) { return ((float)rand() / (float)RAND_MAX - 0.5f) * 2 * a; }

// The previous kernel: all five activations of 8 units per iteration, masked loads chosen per vector.
RK_AVX2 __attribute__((noinline)) static void one_pass(const float *xr, const float *hr, float *g, const float *cp, float *cn,
                                                       float *m, float *tc, long count, long H, long HS) {
    for (long j = 0; j < count; j += 8) {
        long n = count - j;
        __m256i mk = rk_mask(n);
        __m256 i = rk_sigmoid(_mm256_add_ps(RK_LD(xr + j, n, mk), RK_LD(hr + j, n, mk)));
        __m256 f = rk_sigmoid(_mm256_add_ps(RK_LD(xr + H + j, n, mk), RK_LD(hr + HS + j, n, mk)));
        __m256 gg = rk_tanh(_mm256_add_ps(RK_LD(xr + 2 * H + j, n, mk), RK_LD(hr + 2 * HS + j, n, mk)));
        __m256 o = rk_sigmoid(_mm256_add_ps(RK_LD(xr + 3 * H + j, n, mk), RK_LD(hr + 3 * HS + j, n, mk)));
        RK_ST(g + j, i, n, mk); RK_ST(g + H + j, f, n, mk); RK_ST(g + 2 * H + j, gg, n, mk); RK_ST(g + 3 * H + j, o, n, mk);
        __m256 c = _mm256_fmadd_ps(f, RK_LD(cp + j, n, mk), _mm256_mul_ps(i, gg));
        __m256 t = rk_tanh(c);
        RK_ST(cn + j, c, n, mk); RK_ST(tc + j, t, n, mk); RK_ST(m + j, _mm256_mul_ps(o, t), n, mk);
    }
}

typedef void (*gate_pass)(const float *, const float *, float *, const float *, float *, float *, float *, long, long, long);

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s ROWS UNITS HIDDEN ITERS\n", argv[0]); return 1; }
    long B = atol(argv[1]), n = atol(argv[2]), H = atol(argv[3]), iters = atol(argv[4]);
    if (!rk_has_avx2_fma()) { fprintf(stderr, "needs AVX2 and FMA\n"); return 1; }
    long GH = 4 * H, HS = n;                         // projections: rows of 4H; this part's recurrent rows: 4n
    float *xw = malloc(B * GH * 4), *hw = malloc(B * 4 * n * 4), *cp = malloc(B * H * 4);
    for (long i = 0; i < B * GH; i++) xw[i] = uniform(3);
    for (long i = 0; i < B * 4 * n; i++) hw[i] = uniform(3);
    for (long i = 0; i < B * H; i++) cp[i] = uniform(1);
    float *out[2][4];
    gate_pass passes[2] = { one_pass, rk_lstm_row_forward };
    const char *names[2] = { "one pass (before)", "three passes (library)" };
    for (int v = 0; v < 2; v++) {
        for (int k = 0; k < 4; k++) out[v][k] = calloc(k == 0 ? B * GH : B * H, 4);
    }
    for (int round = 0; round < 3; round++) {
        for (int v = 0; v < 2; v++) {
            float *g = out[v][0], *cn = out[v][1], *m = out[v][2], *tc = out[v][3];
            double t0 = now();
            for (long it = 0; it < iters; it++)
                for (long b = 0; b < B; b++)
                    passes[v](xw + b * GH, hw + b * 4 * n, g + b * GH, cp + b * H, cn + b * H, m + b * H, tc + b * H, n, H, HS);
            printf("%-24s %7.2f µs per %ld × %ld units\n", names[v], (now() - t0) / iters * 1e6, B, n);
        }
    }
    int same = 1;
    for (long b = 0; b < B; b++) {                   // only the first n units of each row were written
        for (int gate = 0; gate < 4; gate++) same &= !memcmp(out[0][0] + b * GH + gate * H, out[1][0] + b * GH + gate * H, n * 4);
        for (int k = 1; k < 4; k++) same &= !memcmp(out[0][k] + b * H, out[1][k] + b * H, n * 4);
    }
    printf("identical results: %s\n", same ? "yes" : "NO");
    return same ? 0 : 1;
}
