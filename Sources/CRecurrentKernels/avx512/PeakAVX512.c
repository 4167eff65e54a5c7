// The AVX-512 form of avx2/PeakAVX2.c: 24 independent chains of 16-wide fused multiply–adds (32 zmm
// registers; enough for 2 pipes of latency 4 even where a zmm FMA occupies both halves of a 256-bit pipe,
// as on Zen 4). Compiled with its own target attribute; call only where `rk_has_avx512f` says so.
#include "RecurrentKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int rk_has_avx512f(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f");
    }
    return cached;
}

#define RK_CHAINS 24
__attribute__((target("avx512f"))) float rk_peak_fma_avx512(long iterations) {
    __m512 a[RK_CHAINS];
    for (int i = 0; i < RK_CHAINS; i++) a[i] = _mm512_set1_ps((float)i);
    const __m512 b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
    for (long k = 0; k < iterations; k++) {
#pragma GCC unroll 24
        for (int i = 0; i < RK_CHAINS; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
    }
    __m512 s = a[0];
    for (int i = 1; i < RK_CHAINS; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

#else
int rk_has_avx512f(void) { return 0; }
float rk_peak_fma_avx512(long iterations) { (void)iterations; return 0; }
#endif
