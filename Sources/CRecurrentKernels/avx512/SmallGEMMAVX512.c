// The AVX-512 (F, BW, VL) micro-kernel of the recurrent steps' product: avx2/SmallGEMMAVX2.c's
// C (m, n) = bias + A (m, k) · Bᵀ on the same packed panels (`rk_pack_panels`: 16 rows of B per panel, one
// zmm register per depth p), so packing is shared by both paths.
//
// The micro-kernel keeps an MR × 32 block of C (MR ≤ 12: 24 of the 32 zmm registers) over two adjacent
// panels; each p broadcasts MR values of A and does 2·MR fused multiply–adds against one vector of each
// panel. An odd last panel runs MR × 16. A partial last panel stores its columns through a mask.
//
// Arithmetic: as in the AVX2 kernel, every element of C is bias[j] + Σ_p A[i, p]·B[j, p] accumulated in p
// order with FMA, whatever the block shape: the results are bit-identical to the AVX2 path's
// (Tests/KernelEmulation checks it).
#include "AVX512.h"

#if RK_HAS_AVX512

/// C[0..<MR, 0..<cols] = start + A[0..<MR, :] · (panels p0 | p1), cols ≤ 32 (p1 ignored when PANELS is 1, cols ≤ 16).
RK_AVX512 __attribute__((always_inline)) static inline void rk_block16(
    const int MR, const int PANELS, long k, const float *a, long lda, const float *p0, const float *p1, float *c, long ldc,
    long cols, const float *start) {
    __m512 c0[12], c1[12];
    __m512 s0 = _mm512_loadu_ps(start), s1 = _mm512_loadu_ps(start + 16);
    for (int i = 0; i < MR; i++) { c0[i] = s0; if (PANELS == 2) c1[i] = s1; }
    for (long p = 0; p < k; p++) {
        __m512 b0 = _mm512_loadu_ps(p0 + p * 16);
        if (PANELS == 2) {
            __m512 b1 = _mm512_loadu_ps(p1 + p * 16);
            for (int i = 0; i < MR; i++) {
                __m512 av = _mm512_set1_ps(a[i * lda + p]);
                c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
                c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
            }
        } else {
            for (int i = 0; i < MR; i++) c0[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * lda + p]), b0, c0[i]);
        }
    }
    for (int i = 0; i < MR; i++) {
        if (PANELS == 2) { _mm512_storeu_ps(c + i * ldc, c0[i]); rk_store16(c + i * ldc + 16, c1[i], cols - 16); }
        else rk_store16(c + i * ldc, c0[i], cols);
    }
}

#define RK_BLOCK_CASES(P) \
    case 12: rk_block16(12, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 11: rk_block16(11, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 10: rk_block16(10, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 9: rk_block16(9, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 8: rk_block16(8, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 7: rk_block16(7, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 6: rk_block16(6, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 5: rk_block16(5, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 4: rk_block16(4, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 3: rk_block16(3, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    case 2: rk_block16(2, P, k, a, lda, p0, p1, c, ldc, cols, start); break; \
    default: rk_block16(1, P, k, a, lda, p0, p1, c, ldc, cols, start); break;

RK_AVX512 static void rk_block16_rows(long rows, int panels, long k, const float *a, long lda, const float *p0, const float *p1,
                                      float *c, long ldc, long cols, const float *start) {
    if (panels == 2) { switch (rows) { RK_BLOCK_CASES(2) } }     // constant MR: the accumulators stay in registers
    else { switch (rows) { RK_BLOCK_CASES(1) } }
}

RK_AVX512 void rk_avx512_sgemm_packed(long m, long n, long k, const float *a, long lda, const float *packed, const float *bias,
                                      float *c, long ldc) {
    // Chunks of A's rows of about 192 KiB stay in L2 while every pair of panels passes over them.
    long chunk = 49152 / (k > 0 ? k : 1) / 12 * 12;
    if (chunk < 12) chunk = 12;
    for (long i0 = 0; i0 < m; i0 += chunk) {
        long i1 = m - i0 < chunk ? m : i0 + chunk;
        for (long q = 0; q < n; q += 32) {
            long cols = n - q < 32 ? n - q : 32;
            int panels = cols > 16 ? 2 : 1;
            const float *p0 = packed + q * k, *p1 = panels == 2 ? p0 + 16 * k : p0;
            float start[32] = {0};
            if (bias) memcpy(start, bias + q, sizeof(float) * cols);
            long i = i0;
            while (i < i1) {
                // Blocks of 12 rows; a remainder of 13–23 is split into two near-equal blocks.
                long left = i1 - i, rows = left >= 24 || left <= 12 ? (left < 12 ? left : 12) : (left + 1) / 2;
                rk_block16_rows(rows, panels, k, a + i * lda, lda, p0, p1, c + i * ldc + q, ldc, cols, start);
                i += rows;
            }
        }
    }
}

#else
void rk_avx512_sgemm_packed(long m, long n, long k, const float *a, long lda, const float *packed, const float *bias,
                            float *c, long ldc) {
    (void)bias; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)c; (void)ldc;
}
#endif
