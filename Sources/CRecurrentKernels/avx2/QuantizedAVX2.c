// Int8 and bf16 products for inference (QuantizedMatrix.swift): C (m, n) = A (m, k) · Wᵀ + bias with W (n, k)
// stored once at quantization time, read row by row (row j of W is output j).
//
// int8 (PyTorch's dynamic quantization, FBGEMM's reduce_range): W is s8 with one fp32 scale per row
// (symmetric, |q| ≤ 127), each row padded with zeros to kp (a multiple of 32); A is quantized per row and per
// call to 7-bit unsigned values with a zero point, q = clamp(round(a / s) + z, 0, 127), the row's range widened
// to hold 0. `vpmaddubsw` multiplies u8 by s8 and adds pairs into s16 *with saturation*: 127 · 127 · 2 = 32258
// fits, where a full 8-bit operand (255 · 127 · 2 = 64770) would saturate; this is why A keeps 7 bits.
// `vpmaddwd` by ones then widens the pairs into s32 sums, which are exact (|Σ| ≤ 127² · kp < 2³¹ for
// kp ≤ 2¹⁷). Output: (float)(Σ q_a q_w − z · Σ q_w) · (s_a · s_w) + bias, the correction in 64 bits.
//
// bf16: W holds the upper 16 bits of fp32 values rounded to nearest even; the kernel widens them (shift left
// 16) and accumulates with FMA in fp32, lane l of a vector accumulator taking k ≡ l (mod 8), then adds the
// 8 lanes in a fixed order: the same result whatever the tile (QuantizedReference.swift repeats it exactly).
//
// Every multiply and add here is written out (no contraction into FMA where the reference has none).
#include "RecurrentKernels.h"
#include <stdint.h>
#include <math.h>

#pragma clang fp contract(off)

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define RK_AVX2 __attribute__((target("avx2,fma")))
#define RK_INLINE __attribute__((always_inline)) static inline

// MARK: int8

RK_AVX2 void rk_q8_quantize_rows(long m, long k, long kp, const float *a, long lda, uint8_t *q, long ldq, float *scale,
                                 int32_t *zero) {
    for (long i = 0; i < m; i++) {
        const float *row = a + i * lda;
        uint8_t *out = q + i * ldq;
        __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
        long p = 0;
        for (; p + 8 <= k; p += 8) {
            __m256 v = _mm256_loadu_ps(row + p);
            lo = _mm256_min_ps(lo, v); hi = _mm256_max_ps(hi, v);
        }
        float l8[8], h8[8];
        _mm256_storeu_ps(l8, lo); _mm256_storeu_ps(h8, hi);
        float mn = 0, mx = 0;
        for (int j = 0; j < 8; j++) { mn = l8[j] < mn ? l8[j] : mn; mx = h8[j] > mx ? h8[j] : mx; }
        for (; p < k; p++) { mn = row[p] < mn ? row[p] : mn; mx = row[p] > mx ? row[p] : mx; }
        float s = (mx - mn) / 127.0f;
        if (!(s > 0) || !isfinite(s)) s = 1;
        float zf = nearbyintf(-mn / s);
        int32_t z = zf > 127 ? 127 : zf < 0 ? 0 : (int32_t)zf;
        scale[i] = s; zero[i] = z;
        __m256 vs = _mm256_set1_ps(s);
        __m256i vz = _mm256_set1_epi32(z), v0 = _mm256_setzero_si256(), v127 = _mm256_set1_epi32(127);
        for (p = 0; p + 8 <= k; p += 8) {
            // cvtps rounds to nearest even (the default MXCSR); NaN becomes INT_MIN and clamps to 0.
            __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_div_ps(_mm256_loadu_ps(row + p), vs)), vz);
            r = _mm256_min_epi32(_mm256_max_epi32(r, v0), v127);
            __m256i w = _mm256_packus_epi32(r, r);                          // 16-bit lanes, per 128-bit half
            w = _mm256_packus_epi16(w, w);
            uint32_t lo4 = (uint32_t)_mm256_extract_epi32(w, 0), hi4 = (uint32_t)_mm256_extract_epi32(w, 4);
            uint32_t both[2] = {lo4, hi4};
            __builtin_memcpy(out + p, both, 8);
        }
        for (; p < k; p++) {
            float v = nearbyintf(row[p] / s);
            long r = isnan(v) ? 0 : v > 1e6f ? 1000000 : v < -1e6f ? -1000000 : (long)v;
            r += z;
            out[p] = (uint8_t)(r < 0 ? 0 : r > 127 ? 127 : r);
        }
        for (; p < kp; p++) out[p] = 0;
    }
}

RK_AVX2 RK_INLINE int32_t rk_hsum_epi32(__m256i v) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4E));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xB1));
    return _mm_cvtsi128_si32(x);
}

// An MR × NR block of int32 sums Σ_p a[i, p] · w[j, p] over kp (a multiple of 32).
RK_AVX2 RK_INLINE void rk_q8_block(const int MR, const int NR, long kp, const uint8_t *a, long lda, const int8_t *w, long ldw,
                                   int32_t out[4][4]) {
    __m256i acc[4][4];
    const __m256i ones = _mm256_set1_epi16(1);
    for (int i = 0; i < MR; i++) for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_si256();
    for (long p = 0; p < kp; p += 32) {
        __m256i wv[4];
        for (int j = 0; j < NR; j++) wv[j] = _mm256_loadu_si256((const __m256i *)(w + j * ldw + p));
        for (int i = 0; i < MR; i++) {
            __m256i av = _mm256_loadu_si256((const __m256i *)(a + i * lda + p));
            for (int j = 0; j < NR; j++)
                acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(_mm256_maddubs_epi16(av, wv[j]), ones));
        }
    }
    for (int i = 0; i < MR; i++) for (int j = 0; j < NR; j++) out[i][j] = rk_hsum_epi32(acc[i][j]);
}

RK_INLINE void rk_q8_store(int MR, int NR, int32_t s[4][4], long i0, long j0, const float *ascale, const int32_t *azero,
                           const float *wscale, const int32_t *wsum, const float *bias, float *c, long ldc) {
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            int64_t exact = (int64_t)s[i][j] - (int64_t)azero[i0 + i] * (int64_t)wsum[j0 + j];
            float scaleIJ = ascale[i0 + i] * wscale[j0 + j];
            float v = (float)exact * scaleIJ;
            c[(i0 + i) * ldc + j0 + j] = bias ? v + bias[j0 + j] : v;
        }
}

#define RK_Q8_CASE(MR, NR) rk_q8_block(MR, NR, kp, a + i * lda, lda, w + j * ldw, ldw, s); \
                           rk_q8_store(MR, NR, s, i, j, ascale, azero, wscale, wsum, bias, c, ldc)

RK_AVX2 void rk_q8_gemm(long m, long n, long kp, const uint8_t *a, long lda, const float *ascale, const int32_t *azero,
                        const int8_t *w, long ldw, const float *wscale, const int32_t *wsum, const float *bias, float *c, long ldc) {
    int32_t s[4][4];
    if (m == 1) {                                   // matrix–vector: 4 weight rows per pass over a
        long j = 0, i = 0;
        for (; j + 4 <= n; j += 4) { RK_Q8_CASE(1, 4); }
        for (; j < n; j++) { RK_Q8_CASE(1, 1); }
        return;
    }
    for (long j0 = 0; j0 < n; j0 += 128) {          // a column block of W stays in L1/L2 while every row passes
        long j1 = j0 + 128 < n ? j0 + 128 : n;
        long i = 0;
        for (; i + 4 <= m; i += 4) {
            long j = j0;
            for (; j + 2 <= j1; j += 2) { RK_Q8_CASE(4, 2); }
            for (; j < j1; j++) { RK_Q8_CASE(4, 1); }
        }
        for (; i < m; i++) {
            long j = j0;
            for (; j + 4 <= j1; j += 4) { RK_Q8_CASE(1, 4); }
            for (; j < j1; j++) { RK_Q8_CASE(1, 1); }
        }
    }
}

// MARK: bf16

RK_AVX2 RK_INLINE __m256 rk_bf16_load8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

// (l0+l4, l1+l5, l2+l6, l3+l7) → (x0+x2, x1+x3) → their sum: the order QuantizedReference.swift repeats.
RK_AVX2 RK_INLINE float rk_hsum_ps(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

RK_AVX2 RK_INLINE void rk_bf16_block(const int MR, const int NR, long k, const float *a, long lda, const uint16_t *w, long ldw,
                                     const float *bias, long i0, long j0, float *c, long ldc) {
    __m256 acc[4][4];
    for (int i = 0; i < MR; i++) for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_ps();
    long p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256 wv[4];
        for (int j = 0; j < NR; j++) wv[j] = rk_bf16_load8(w + (j0 + j) * ldw + p);
        for (int i = 0; i < MR; i++) {
            __m256 av = _mm256_loadu_ps(a + (i0 + i) * lda + p);
            for (int j = 0; j < NR; j++) acc[i][j] = _mm256_fmadd_ps(av, wv[j], acc[i][j]);
        }
    }
    if (p < k) {                                    // the tail: W is zero-padded to a multiple of 8, A is masked
        long left = k - p;
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 wv[4];
        for (int j = 0; j < NR; j++) wv[j] = rk_bf16_load8(w + (j0 + j) * ldw + p);
        for (int i = 0; i < MR; i++) {
            __m256 av = _mm256_maskload_ps(a + (i0 + i) * lda + p, mask);
            for (int j = 0; j < NR; j++) acc[i][j] = _mm256_fmadd_ps(av, wv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            float v = rk_hsum_ps(acc[i][j]);
            c[(i0 + i) * ldc + j0 + j] = bias ? v + bias[j0 + j] : v;
        }
}

#define RK_BF_CASE(MR, NR) rk_bf16_block(MR, NR, k, a, lda, w, ldw, bias, i, j, c, ldc)

RK_AVX2 void rk_bf16_gemm(long m, long n, long k, const float *a, long lda, const uint16_t *w, long ldw, const float *bias,
                          float *c, long ldc) {
    for (long j0 = 0; j0 < n; j0 += 128) {
        long j1 = j0 + 128 < n ? j0 + 128 : n;
        long i = 0;
        for (; i + 4 <= m; i += 4) {
            long j = j0;
            for (; j + 2 <= j1; j += 2) { RK_BF_CASE(4, 2); }
            for (; j < j1; j++) { RK_BF_CASE(4, 1); }
        }
        for (; i < m; i++) {
            long j = j0;
            for (; j + 4 <= j1; j += 4) { RK_BF_CASE(1, 4); }
            for (; j < j1; j++) { RK_BF_CASE(1, 1); }
        }
    }
}

#else
void rk_q8_quantize_rows(long m, long k, long kp, const float *a, long lda, uint8_t *q, long ldq, float *scale, int32_t *zero) {}
void rk_q8_gemm(long m, long n, long kp, const uint8_t *a, long lda, const float *ascale, const int32_t *azero,
                const int8_t *w, long ldw, const float *wscale, const int32_t *wsum, const float *bias, float *c, long ldc) {}
void rk_bf16_gemm(long m, long n, long k, const float *a, long lda, const uint16_t *w, long ldw, const float *bias,
                  float *c, long ldc) {}
#endif
