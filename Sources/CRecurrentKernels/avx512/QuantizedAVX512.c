// The int8 and bf16 products of avx2/QuantizedAVX2.c on AVX-512: VNNI's `vpdpbusd` (four u8 × s8 products added
// into each int32 lane, no s16 intermediate, no saturation) and AVX512-BF16's `vdpbf16ps` (pairs of bf16
// products added into fp32 lanes). Run-time choice: QuantizedMatrix.swift, from InstructionSet.c (the selected path and its features);
// rk_has_avx512_vnni and rk_has_avx512_bf16 below serve the C tests.
//
// int8: the same quantized operands as the AVX2 kernel (A with 7 bits, although VNNI would not saturate with 8:
// one quantization for every processor, so results do not depend on it) and exact int32 sums: the output is
// bit-identical to rk_q8_gemm's and the Swift reference's.
// bf16: `vdpbf16ps` takes both operands in bf16, so A's rows are rounded to bf16 (nearest even) first; the sums
// differ from the converting AVX2 path by that rounding and their order (the tests bound the difference).
//
// Defining RK_EMULATE_AVX512 compiles this file against SIMD Everywhere (libsimde-dev) for
// Tests/KernelEmulation/QuantizedEmulationTest.c on processors without these instructions (Zen 3).
#include "RecurrentKernels.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(RK_EMULATE_AVX512)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define RK_Q_AVX512 1
#define RK_VNNI
#define RK_BF16
#define RK_512
#elif defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define RK_Q_AVX512 1
#define RK_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define RK_BF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))
#define RK_512 __attribute__((target("avx512f,avx512bw")))
#endif

#if RK_Q_AVX512 && !defined(RK_EMULATE_AVX512)
int rk_has_avx512_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") ? 1 : 0;
}
int rk_has_avx512_bf16(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") ? 1 : 0;
}
#elif !RK_Q_AVX512
int rk_has_avx512_vnni(void) { return 0; }
int rk_has_avx512_bf16(void) { return 0; }
#endif

#if RK_Q_AVX512

RK_512 static inline int32_t rk_sum16_epi32(__m512i v) {
    int32_t t[16];
    _mm512_storeu_si512((void *)t, v);
    int32_t s = 0;
    for (int i = 0; i < 16; i++) s += t[i];
    return s;
}

// 64 bytes of row p at offset `at`, of which `left` (32 or ≥ 64) exist: the rest read as zeros.
RK_512 static inline __m512i rk_load64(const void *p, long left) {
    if (left >= 64) return _mm512_loadu_si512(p);
    uint8_t t[64] = {0};
    memcpy(t, p, 32);
    return _mm512_loadu_si512((const void *)t);
}

RK_VNNI void rk_q8_gemm_vnni(long m, long n, long kp, const uint8_t *a, long lda, const float *ascale, const int32_t *azero,
                             const int8_t *w, long ldw, const float *wscale, const int32_t *wsum, const float *bias, float *c,
                             long ldc) {
    for (long i0 = 0; i0 < m; i0 += 4) {
        long mr = m - i0 < 4 ? m - i0 : 4;
        for (long j = 0; j < n; j++) {
            __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
            for (long p = 0; p < kp; p += 64) {
                __m512i wv = rk_load64(w + j * ldw + p, kp - p);
                for (long i = 0; i < mr; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], rk_load64(a + (i0 + i) * lda + p, kp - p), wv);
            }
            for (long i = 0; i < mr; i++) {
                int64_t exact = (int64_t)rk_sum16_epi32(acc[i]) - (int64_t)azero[i0 + i] * (int64_t)wsum[j];
                float scaleIJ = ascale[i0 + i] * wscale[j];
                float v = (float)exact * scaleIJ;
                c[(i0 + i) * ldc + j] = bias ? v + bias[j] : v;
            }
        }
    }
}

static inline uint16_t rk_to_bf16(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x40);   // NaN stays NaN
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

RK_BF16 void rk_bf16_gemm_avx512(long m, long n, long k, const float *a, long lda, const uint16_t *w, long ldw, const float *bias,
                                 float *c, long ldc) {
    long kb = (k + 31) & ~31L;                      // 32 bf16 values per vector
    uint16_t *ab = calloc((size_t)(m * kb > 0 ? m * kb : 1), sizeof(uint16_t));
    for (long i = 0; i < m; i++) for (long p = 0; p < k; p++) ab[i * kb + p] = rk_to_bf16(a[i * lda + p]);
    uint16_t wt[32];
    for (long j = 0; j < n; j++) {
        for (long i = 0; i < m; i++) {
            __m512 acc = _mm512_setzero_ps();
            for (long p = 0; p < kb; p += 32) {
                const uint16_t *wp = w + j * ldw + p;
                if (p + 32 > ldw) { memset(wt, 0, sizeof wt); memcpy(wt, wp, sizeof(uint16_t) * (size_t)(ldw - p)); wp = wt; }
                __m512i av = _mm512_loadu_si512((const void *)(ab + i * kb + p)), wv = _mm512_loadu_si512((const void *)wp);
                acc = _mm512_dpbf16_ps(acc, (__m512bh)av, (__m512bh)wv);
            }
            float t[16], s = 0;
            _mm512_storeu_ps(t, acc);
            for (int l = 0; l < 16; l++) s += t[l];
            c[i * ldc + j] = bias ? s + bias[j] : s;
        }
    }
    free(ab);
}

#else
void rk_q8_gemm_vnni(long m, long n, long kp, const uint8_t *a, long lda, const float *ascale, const int32_t *azero,
                     const int8_t *w, long ldw, const float *wscale, const int32_t *wsum, const float *bias, float *c, long ldc) {}
void rk_bf16_gemm_avx512(long m, long n, long k, const float *a, long lda, const uint16_t *w, long ldw, const float *bias,
                         float *c, long ldc) {}
#endif
