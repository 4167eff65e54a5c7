// A single-threaded AVX2 + FMA matrix product for the recurrent steps: C (m, n) = A (m, k) · Bᵀ, where
// B (n, k) is packed once per sequence and A (the batch's h_{t-1} or gate gradients) is read in place.
//
// Why not sgemm: a step's product is small (m = batch, 32–64 rows; n = a part's gate units; k = hidden)
// and runs T times against the same B. OpenBLAS 0.3.21 packs both operands on every call; this kernel
// packs B once and comes near the core's FMA peak (Benchmarks/Micro/smallgemm.c, peak.c; rates in
// docs/BENCHMARKS.md). The input projection over all steps (m = T·B) also runs here: A's rows are taken in
// chunks of about 192 KiB that stay in L2 while every panel passes over them.
//
// Layout: B is packed in panels of 16 of its rows (`rk_pack_panels`): panel q holds rows 16q … 16q+15,
// for each p in 0..<k the 16 values B[16q + j, p] side by side; the last panel is padded with zeros.
// The micro-kernel keeps an MR × 16 block of C (MR ≤ 6) in 12 ymm registers; each p broadcasts MR
// values of A and does 2·MR fused multiply–adds against the panel's two vectors.
//
// Arithmetic: every element of C is bias[j] + Σ_p A[i, p]·B[j, p] (bias 0 when none), accumulated in p
// order with FMA, whatever the row block, panel or thread: results depend only on the operands
// (bit-identical reruns, and the same numbers whether a step is split over two cores or not).
#include "RecurrentKernels.h"

long rk_packed_panel_size(long n, long k) { return ((n + 15) / 16) * 16 * k; }

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

#define RK_AVX2 __attribute__((target("avx2,fma")))

// out[i] = column i of the 8 × 8 block whose rows are r[0..7] (the usual unpack / shuffle / lane-swap ladder).
RK_AVX2 static inline void rk_transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20); r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20); r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31); r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31); r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// A whole panel (16 rows) of an operand whose depth is contiguous (sp = 1), depth [0, k8) in steps of 8:
// two 8 × 8 transposes per step, so every load and store is a whole vector. The strided scalar loop it
// replaces wrote one float per 64 bytes (docs/BENCHMARKS.md).
RK_AVX2 static void rk_pack_panel_transposed(const float *src, long sj, long k8, float *panel) {
    for (long p = 0; p < k8; p += 8) {
        __m256 lo[8], hi[8];
        for (int j = 0; j < 8; j++) { lo[j] = _mm256_loadu_ps(src + j * sj + p); hi[j] = _mm256_loadu_ps(src + (j + 8) * sj + p); }
        rk_transpose8(lo); rk_transpose8(hi);
        for (int i = 0; i < 8; i++) { _mm256_storeu_ps(panel + (p + i) * 16, lo[i]); _mm256_storeu_ps(panel + (p + i) * 16 + 8, hi[i]); }
    }
}

void rk_pack_panels(const float *src, long sj, long sp, long n, long k, float *dst) {
    for (long q = 0; q < n; q += 16) {
        long rows = n - q < 16 ? n - q : 16;
        float *panel = dst + q * k;
        if (sp == 1 && rows == 16 && k >= 8 && rk_has_avx2_fma()) {
            long k8 = k & ~7L;
            rk_pack_panel_transposed(src + q * sj, sj, k8, panel);
            for (long j = 0; j < 16; j++) {            // the depth's last k mod 8
                for (long p = k8; p < k; p++) panel[p * 16 + j] = src[(q + j) * sj + p];
            }
        } else if (sj == 1) {                          // a panel's 16 values are contiguous in src
            for (long p = 0; p < k; p++) {
                const float *s = src + q + p * sp;
                float *d = panel + p * 16;
                memcpy(d, s, sizeof(float) * rows);
                for (long j = rows; j < 16; j++) d[j] = 0;
            }
        } else {
            for (long j = 0; j < 16; j++) {
                if (j < rows) {
                    const float *s = src + (q + j) * sj;
                    for (long p = 0; p < k; p++) panel[p * 16 + j] = s[p * sp];
                } else {
                    for (long p = 0; p < k; p++) panel[p * 16 + j] = 0;
                }
            }
        }
    }
}

/// C[0..<MR, 0..<cols] = start + A[0..<MR, :] · panel (k × 16), cols ≤ 16; start is the panel's 16 bias values or zeros.
RK_AVX2 __attribute__((always_inline)) static inline void rk_block(
    const int MR, long k, const float *a, long lda, const float *panel, float *c, long ldc, long cols, const float *start) {
    __m256 c0[6], c1[6];
    __m256 s0 = _mm256_loadu_ps(start), s1 = _mm256_loadu_ps(start + 8);
    for (int i = 0; i < MR; i++) { c0[i] = s0; c1[i] = s1; }
    for (long p = 0; p < k; p++) {
        __m256 b0 = _mm256_loadu_ps(panel + p * 16), b1 = _mm256_loadu_ps(panel + p * 16 + 8);
        for (int i = 0; i < MR; i++) {
            __m256 av = _mm256_broadcast_ss(a + i * lda + p);
            c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
        }
    }
    if (cols == 16) {
        for (int i = 0; i < MR; i++) { _mm256_storeu_ps(c + i * ldc, c0[i]); _mm256_storeu_ps(c + i * ldc + 8, c1[i]); }
    } else {
        float tile[16];
        for (int i = 0; i < MR; i++) {
            _mm256_storeu_ps(tile, c0[i]); _mm256_storeu_ps(tile + 8, c1[i]);
            memcpy(c + i * ldc, tile, sizeof(float) * cols);
        }
    }
}

RK_AVX2 static void rk_block_rows(long rows, long k, const float *a, long lda, const float *panel, float *c, long ldc, long cols,
                                  const float *start) {
    switch (rows) {                                    // constant MR: the accumulators stay in registers
    case 6: rk_block(6, k, a, lda, panel, c, ldc, cols, start); break;
    case 5: rk_block(5, k, a, lda, panel, c, ldc, cols, start); break;
    case 4: rk_block(4, k, a, lda, panel, c, ldc, cols, start); break;
    case 3: rk_block(3, k, a, lda, panel, c, ldc, cols, start); break;
    case 2: rk_block(2, k, a, lda, panel, c, ldc, cols, start); break;
    default: rk_block(1, k, a, lda, panel, c, ldc, cols, start); break;
    }
}

RK_AVX2 void rk_sgemm_packed(long m, long n, long k, const float *a, long lda, const float *packed, const float *bias,
                             float *c, long ldc) {
    // Chunks of A's rows of about 192 KiB stay in L2 while every panel passes over them (a step's
    // 32–64 rows are one chunk; the input projection over all steps is many).
    long chunk = 49152 / (k > 0 ? k : 1) / 6 * 6;
    if (chunk < 6) chunk = 6;
    for (long i0 = 0; i0 < m; i0 += chunk) {
        long i1 = m - i0 < chunk ? m : i0 + chunk;
        for (long q = 0; q < n; q += 16) {             // panel outer: it stays in L1 across the row blocks
            const float *panel = packed + q * k;
            long cols = n - q < 16 ? n - q : 16;
            float start[16] = {0};
            if (bias) memcpy(start, bias + q, sizeof(float) * cols);
            long i = i0;
            while (i < i1) {
                // Blocks of 6 rows; a remainder of 7–11 is split into two near-equal blocks, so no block
                // is a lone 1–2 rows (which would leave the FMA units waiting on too few accumulators).
                long left = i1 - i, rows = left >= 12 || left <= 6 ? (left < 6 ? left : 6) : (left + 1) / 2;
                rk_block_rows(rows, k, a + i * lda, lda, panel, c + i * ldc + q, ldc, cols, start);
                i += rows;
            }
        }
    }
}

#else

void rk_pack_panels(const float *src, long sj, long sp, long n, long k, float *dst) {
    (void)src; (void)sj; (void)sp; (void)n; (void)k; (void)dst;
}
void rk_sgemm_packed(long m, long n, long k, const float *a, long lda, const float *packed, const float *bias,
                     float *c, long ldc) {
    (void)bias; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)c; (void)ldc;
}

#endif
