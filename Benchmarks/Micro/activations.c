// The gate kernels' sigmoid and tanh (avx2/GatesAVX2.c): cycles per 8 values, L1-resident, against the Horner-order
// versions they replaced, and with an argument STRIDE, the worst error in ulps against double precision over
// ± every STRIDE-th float bit pattern up to 87 (sigmoid) and 12 (tanh).
//   clang -O2 activations.c -I../../Sources/CRecurrentKernels/include -o activations -lm && ./activations 3
// Cycles assume the 3.2 GHz that peak.c's 102.5 GFLOP/s implies.
#include "../../Sources/CRecurrentKernels/avx2/GatesAVX2.c"
#include "../../Sources/CRecurrentKernels/InstructionSet.c"   // rk_has_avx2_fma
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

// Before: e^x with the clamps on both sides and Cephes' polynomial in Horner's order; sigmoid of −x; tanh
// through e^{2|x|} and the odd Taylor polynomial to x¹⁵.
RK_AVX2 static inline __m256 horner_exp(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(-87.3f), _mm256_min_ps(_mm256_set1_ps(88.3f), x));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    return _mm256_mul_ps(p, rk_pow2n(t));
}
RK_AVX2 static inline __m256 horner_sigmoid(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, horner_exp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
RK_AVX2 static inline __m256 horner_tanh(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), signMask = _mm256_set1_ps(-0.0f);
    __m256 a = _mm256_andnot_ps(signMask, x);
    __m256 big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(horner_exp(_mm256_add_ps(a, a)), one)));
    big = _mm256_or_ps(big, _mm256_and_ps(signMask, x));
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-929569.0f / 638512875.0f);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(21844.0f / 6081075.0f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1382.0f / 155925.0f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(62.0f / 2835.0f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-17.0f / 315.0f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.0f / 15.0f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.0f / 3.0f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(x, x2), p, x);
    return _mm256_blendv_ps(big, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.4f), _CMP_LT_OQ));
}

#define LOOP(name, fn) RK_AVX2 __attribute__((noinline)) static void name(const float *x, float *y, long n) { \
    for (long j = 0; j < n; j += 8) _mm256_storeu_ps(y + j, fn(_mm256_loadu_ps(x + j))); }
LOOP(sigmoid_before, horner_sigmoid) LOOP(tanh_before, horner_tanh) LOOP(sigmoid_library, rk_sigmoid) LOOP(tanh_library, rk_tanh)
typedef void (*kernel)(const float *, float *, long);

static double ulp_of(double v) {
    float f = (float)fabs(v);
    if (f == 0) return ldexp(1, -149);
    int e; frexpf(f, &e);
    return ldexp(1.0, e - 24 < -149 ? -149 : e - 24);
}
static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

static void accuracy(const char *name, kernel f, double (*reference)(double), float limit, unsigned stride) {
    enum { N = 1 << 14 };
    static float xs[N], ys[N];
    double worst = 0, at = 0;
    unsigned bits = 0, top; memcpy(&top, &limit, 4);
    while (bits <= top) {
        int count = 0;
        for (; count < N && bits <= top; count += 2, bits += stride) { float m; memcpy(&m, &bits, 4); xs[count] = m; xs[count + 1] = -m; }
        f(xs, ys, count);
        for (int k = 0; k < count; k++) {
            double r = reference(xs[k]), error = fabs(ys[k] - r) / ulp_of(r);
            if (error > worst) { worst = error; at = xs[k]; }
        }
    }
    printf("%-18s worst %.3f ulp at x = %.9g (|x| ≤ %g, every %u-th float)\n", name, worst, at, limit, stride);
}

int main(int argc, char **argv) {
    if (!rk_has_avx2_fma()) { fprintf(stderr, "needs AVX2 and FMA\n"); return 1; }
    long n = 4096, iters = 100000;
    float *x = aligned_alloc(64, n * 4), *y = aligned_alloc(64, n * 4);
    for (long i = 0; i < n; i++) x[i] = ((float)rand() / (float)RAND_MAX - 0.5f) * 6;
    kernel kernels[4] = { sigmoid_before, sigmoid_library, tanh_before, tanh_library };
    const char *names[4] = { "sigmoid (before)", "sigmoid (library)", "tanh (before)", "tanh (library)" };
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 4; k++) {
            double t0 = now();
            for (long it = 0; it < iters; it++) kernels[k](x, y, n);
            printf("%-18s %5.1f cycles per 8 values\n", names[k], (now() - t0) / iters / (n / 8) * 3.2e9);
        }
    }
    if (argc > 1) {
        unsigned stride = (unsigned)atoi(argv[1]);
        accuracy("sigmoid (before)", sigmoid_before, sigmoid, 87, stride);
        accuracy("sigmoid (library)", sigmoid_library, sigmoid, 87, stride);
        accuracy("tanh (before)", tanh_before, tanh, 12, stride);
        accuracy("tanh (library)", tanh_library, tanh, 12, stride);
    }
    return 0;
}
