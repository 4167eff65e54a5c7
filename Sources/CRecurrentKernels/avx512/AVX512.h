// What every AVX-512 kernel file includes: the intrinsics, its target attribute, and whole / partial vector
// loads and stores. Defining RK_EMULATE_AVX512 compiles the same kernels against SIMD Everywhere
// (libsimde-dev), which builds each 512-bit operation from two AVX2 halves: Tests/KernelEmulation runs them
// on a machine without AVX-512 (compiled with -mavx2 -mfma, so its fused multiply–adds are fused too).
#ifndef RECURRENT_AVX512_H
#define RECURRENT_AVX512_H
#include "RecurrentKernels.h"
#include <string.h>

#if defined(RK_EMULATE_AVX512)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define RK_HAS_AVX512 1
#define RK_AVX512
#elif defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define RK_HAS_AVX512 1
#define RK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
#endif

#if RK_HAS_AVX512
/// The first n of 16 lanes (n ≤ 16).
RK_AVX512 static inline __mmask16 rk_mask16(long n) { return (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1); }

#if defined(RK_EMULATE_AVX512)
// SIMD Everywhere 0.7.4 has no masked loads and stores: through a buffer (lanes ≥ n read as 0, never touched).
static inline __m512 rk_load16(const float *p, long n) {
    if (n >= 16) return _mm512_loadu_ps(p);
    float t[16] = {0};
    memcpy(t, p, sizeof(float) * (size_t)n);
    return _mm512_loadu_ps(t);
}
static inline void rk_store16(float *p, __m512 v, long n) {
    if (n >= 16) { _mm512_storeu_ps(p, v); return; }
    float t[16];
    _mm512_storeu_ps(t, v);
    memcpy(p, t, sizeof(float) * (size_t)n);
}
#else
/// n values from p (n ≥ 16: a whole vector), the other lanes 0; lanes ≥ n are not read.
RK_AVX512 __attribute__((always_inline)) static inline __m512 rk_load16(const float *p, long n) {
    return n >= 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(rk_mask16(n), p);
}
/// Stores the first n lanes of v (n ≥ 16: all).
RK_AVX512 __attribute__((always_inline)) static inline void rk_store16(float *p, __m512 v, long n) {
    if (n >= 16) _mm512_storeu_ps(p, v); else _mm512_mask_storeu_ps(p, rk_mask16(n), v);
}
#endif

/// Bitwise operations on floats through the integer ones (the _ps forms need AVX512DQ).
#define RK_ANDNOT16(a, b) _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define RK_AND16(a, b) _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define RK_OR16(a, b) _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#endif

#endif
