// AVX-512 (F, BW, VL) versions of the Float gate kernels of avx2/GatesAVX2.c and its batch-1 matrix–vector
// product, chosen at run time (InstructionSet.c). 16 lanes instead of 8; a row's last, partial vector is
// loaded and stored through a __mmask16 instead of AVX2's masked loads. Every element gets the same
// operations in the same order as in the AVX2 kernels (same constants, same fused multiply–adds, the
// bitwise operations through their integer forms), so the results are bit for bit the same
// (Tests/KernelEmulation checks it). The matrix–vector product sums each row in 16 lanes, not 8: another
// order, so its rounding differs from the AVX2 one's.
#include "AVX512.h"

#if RK_HAS_AVX512
#include "../ExpPolynomial.h"

// 2ⁿ from t = x·log2 e + 1.5·2²³, whose low mantissa bits hold n.
RK_AVX512 static inline __m512 rk_pow2n16(__m512 t) {
    __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000 - 127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23));
}

// 1 / (1 + e^-x), as avx2/GatesAVX2.c's rk_sigmoid.
RK_AVX512 static inline __m512 rk_sigmoid16(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-88.3f), _mm512_min_ps(_mm512_set1_ps(87.3f), x));   // NaN propagates
    const __m512 magic = _mm512_set1_ps(12582912.0f), one = _mm512_set1_ps(1.0f);
    __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(-1.44269504f), magic);
    __m512 n = _mm512_sub_ps(t, magic);
    __m512 s = _mm512_fmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    s = _mm512_fmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), s);
    __m512 s2 = _mm512_mul_ps(s, s);
    __m512 q0 = _mm512_fnmadd_ps(_mm512_set1_ps(RK_EXP_P4), s, _mm512_set1_ps(RK_EXP_P5));
    __m512 q1 = _mm512_fnmadd_ps(_mm512_set1_ps(RK_EXP_P2), s, _mm512_set1_ps(RK_EXP_P3));
    __m512 q2 = _mm512_fnmadd_ps(_mm512_set1_ps(RK_EXP_P0), s, _mm512_set1_ps(RK_EXP_P1));
    __m512 p = _mm512_fmadd_ps(_mm512_fmadd_ps(q2, s2, q1), s2, q0);
    __m512 e = _mm512_mul_ps(_mm512_add_ps(_mm512_fmsub_ps(p, s2, s), one), rk_pow2n16(t));
    return _mm512_div_ps(one, _mm512_add_ps(one, e));
}

// tanh x = E / (E + 2) with x's sign, as avx2/GatesAVX2.c's rk_tanh.
RK_AVX512 static inline __m512 rk_tanh16(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f), signMask = _mm512_set1_ps(-0.0f);
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 a = _mm512_min_ps(_mm512_set1_ps(9.1f), RK_ANDNOT16(signMask, x));
    __m512 t = _mm512_fmadd_ps(a, _mm512_set1_ps(2.88539008f), magic);
    __m512 n = _mm512_sub_ps(t, magic);
    __m512 h = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.3466796875f), a);
    h = _mm512_fnmadd_ps(n, _mm512_set1_ps(-1.06097220e-4f), h);
    __m512 h2 = _mm512_mul_ps(h, h);
    __m512 q0 = _mm512_fmadd_ps(_mm512_set1_ps(4 * RK_EXP_P4), h, _mm512_set1_ps(2 * RK_EXP_P5));
    __m512 q1 = _mm512_fmadd_ps(_mm512_set1_ps(16 * RK_EXP_P2), h, _mm512_set1_ps(8 * RK_EXP_P3));
    __m512 q2 = _mm512_fmadd_ps(_mm512_set1_ps(64 * RK_EXP_P0), h, _mm512_set1_ps(32 * RK_EXP_P1));
    __m512 p = _mm512_fmadd_ps(_mm512_fmadd_ps(q2, h2, q1), h2, q0);
    __m512 z = _mm512_fmadd_ps(p, h2, h);
    __m512 s = rk_pow2n16(t);
    __m512 e = _mm512_fmadd_ps(_mm512_add_ps(s, s), z, _mm512_sub_ps(s, one));
    __m512 r = _mm512_div_ps(e, _mm512_add_ps(e, _mm512_set1_ps(2.0f)));
    return RK_OR16(r, RK_AND16(signMask, x));
}

#define RK_LD(p, n) rk_load16((p), (n))
#define RK_ST(p, v, n) rk_store16((p), (v), (n))

// Each kernel is written once for 16 units at j, of which n are valid, and forced inline: `RK_ROWS16` gives
// the whole vectors a loop with plain loads and stores (n is the constant 16) and the last vector the masked ones.
#define RK_INL RK_AVX512 __attribute__((always_inline)) static inline
#define RK_ROWS16(count, call) do { long j_ = 0, full_ = (count) & ~15L; \
    for (; j_ < full_; j_ += 16) { const long j = j_, n = 16; call; } \
    if (j_ < (count)) { const long j = j_, n = (count) - j_; call; } } while (0)

// The LSTM step in the three passes of the AVX2 kernel (sigmoids; tanh g and the cell; tanh c and the output).
RK_INL void rk_lstm_sigmoids16(const float *xr, const float *hr, float *g, long j, long n, long H, long HS) {
    RK_ST(g + j, rk_sigmoid16(_mm512_add_ps(RK_LD(xr + j, n), RK_LD(hr + j, n))), n);
    RK_ST(g + H + j, rk_sigmoid16(_mm512_add_ps(RK_LD(xr + H + j, n), RK_LD(hr + HS + j, n))), n);
    RK_ST(g + 3 * H + j, rk_sigmoid16(_mm512_add_ps(RK_LD(xr + 3 * H + j, n), RK_LD(hr + 3 * HS + j, n))), n);
    RK_ST(g + 2 * H + j, _mm512_add_ps(RK_LD(xr + 2 * H + j, n), RK_LD(hr + 2 * HS + j, n)), n);
}
RK_INL void rk_lstm_cell16(float *g, const float *cp, float *cn, long j, long n, long H) {
    __m512 gg = rk_tanh16(RK_LD(g + 2 * H + j, n));
    RK_ST(g + 2 * H + j, gg, n);
    RK_ST(cn + j, _mm512_fmadd_ps(RK_LD(g + H + j, n), RK_LD(cp + j, n), _mm512_mul_ps(RK_LD(g + j, n), gg)), n);
}
RK_INL void rk_lstm_output16(const float *g, const float *cn, float *m, float *tc, long j, long n, long H) {
    __m512 t = rk_tanh16(RK_LD(cn + j, n));
    RK_ST(tc + j, t, n);
    RK_ST(m + j, _mm512_mul_ps(RK_LD(g + 3 * H + j, n), t), n);
}

RK_AVX512 void rk_avx512_lstm_row_forward(const float *xr, const float *hr, float *g, const float *cp, float *cn, float *m,
                                          float *tc, long count, long H, long HS) {
    RK_ROWS16(count, rk_lstm_sigmoids16(xr, hr, g, j, n, H, HS));
    RK_ROWS16(count, rk_lstm_cell16(g, cp, cn, j, n, H));
    RK_ROWS16(count, rk_lstm_output16(g, cn, m, tc, j, n, H));
}

RK_INL void rk_lstm_backward16(const float *g, const float *cp, const float *tc, const float *dm, float *dc, float *dgx,
                               long j, long n, long H) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 i = RK_LD(g + j, n), f = RK_LD(g + H + j, n), gg = RK_LD(g + 2 * H + j, n), o = RK_LD(g + 3 * H + j, n);
    __m512 t = RK_LD(tc + j, n), d = RK_LD(dm + j, n);
    __m512 dcj = _mm512_fmadd_ps(_mm512_mul_ps(d, o), _mm512_fnmadd_ps(t, t, one), RK_LD(dc + j, n));
    RK_ST(dgx + j, _mm512_mul_ps(_mm512_mul_ps(dcj, gg), _mm512_mul_ps(i, _mm512_sub_ps(one, i))), n);
    RK_ST(dgx + H + j, _mm512_mul_ps(_mm512_mul_ps(dcj, RK_LD(cp + j, n)), _mm512_mul_ps(f, _mm512_sub_ps(one, f))), n);
    RK_ST(dgx + 2 * H + j, _mm512_mul_ps(_mm512_mul_ps(dcj, i), _mm512_fnmadd_ps(gg, gg, one)), n);
    RK_ST(dgx + 3 * H + j, _mm512_mul_ps(_mm512_mul_ps(d, t), _mm512_mul_ps(o, _mm512_sub_ps(one, o))), n);
    RK_ST(dc + j, _mm512_mul_ps(dcj, f), n);
}

RK_AVX512 void rk_avx512_lstm_row_backward(const float *g, const float *cp, const float *tc, const float *dm, float *dc, float *dgx,
                                           long count, long H) {
    RK_ROWS16(count, rk_lstm_backward16(g, cp, tc, dm, dc, dgx, j, n, H));
}

RK_INL void rk_gru_forward16(const float *xr, const float *hr, const float *bhn, float *g, const float *hp, float *hn,
                             float *hnSaved, long j, long n, long H, long HS) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 r = rk_sigmoid16(_mm512_add_ps(RK_LD(xr + j, n), RK_LD(hr + j, n)));
    __m512 z = rk_sigmoid16(_mm512_add_ps(RK_LD(xr + H + j, n), RK_LD(hr + HS + j, n)));
    __m512 hnj = RK_LD(hr + 2 * HS + j, n);
    if (bhn) hnj = _mm512_add_ps(hnj, RK_LD(bhn + j, n));
    __m512 nn = rk_tanh16(_mm512_fmadd_ps(r, hnj, RK_LD(xr + 2 * H + j, n)));
    RK_ST(g + j, r, n); RK_ST(g + H + j, z, n); RK_ST(g + 2 * H + j, nn, n); RK_ST(hnSaved + j, hnj, n);
    RK_ST(hn + j, _mm512_fmadd_ps(z, RK_LD(hp + j, n), _mm512_mul_ps(_mm512_sub_ps(one, z), nn)), n);
}

RK_AVX512 void rk_avx512_gru_row_forward(const float *xr, const float *hr, const float *bhn, float *g, const float *hp, float *hn,
                                         float *hnSaved, long count, long H, long HS) {
    RK_ROWS16(count, rk_gru_forward16(xr, hr, bhn, g, hp, hn, hnSaved, j, n, H, HS));
}

RK_INL void rk_tanh16_row(const float *xr, const float *hr, float *hn, long j, long n) {
    RK_ST(hn + j, rk_tanh16(_mm512_add_ps(RK_LD(xr + j, n), RK_LD(hr + j, n))), n);
}

RK_AVX512 void rk_avx512_tanh_row_forward(const float *xr, const float *hr, float *hn, long count) {
    RK_ROWS16(count, rk_tanh16_row(xr, hr, hn, j, n));
}

// The 16 lanes' sum: halves, then quarters, then the 4-lane ladder (the extracts are AVX512F).
RK_AVX512 static inline float rk_hsum16(__m512 v) {
    __m256 lo = _mm512_castps512_ps256(v), hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 h = _mm256_add_ps(lo, hi);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// y[r] (=|+=) W[r, 0..<k] · x, four rows at a time; the depth's last k mod 16 through a masked load (zeros).
RK_AVX512 void rk_avx512_sgemv_rows(const float *w, long ldw, const float *x, float *y, long row0, long row1, long k, int accumulate) {
    long k16 = k & ~15L, tail = k - k16;
    long r = row0;
    for (; r + 4 <= row1; r += 4) {
        const float *w0 = w + r * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (long j = 0; j < k16; j += 16) {
            __m512 xv = _mm512_loadu_ps(x + j);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + j), xv, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + j), xv, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + j), xv, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + j), xv, a3);
        }
        if (tail) {
            __m512 xv = rk_load16(x + k16, tail);
            a0 = _mm512_fmadd_ps(rk_load16(w0 + k16, tail), xv, a0);
            a1 = _mm512_fmadd_ps(rk_load16(w1 + k16, tail), xv, a1);
            a2 = _mm512_fmadd_ps(rk_load16(w2 + k16, tail), xv, a2);
            a3 = _mm512_fmadd_ps(rk_load16(w3 + k16, tail), xv, a3);
        }
        float s0 = rk_hsum16(a0), s1 = rk_hsum16(a1), s2 = rk_hsum16(a2), s3 = rk_hsum16(a3);
        if (accumulate) { y[r] += s0; y[r + 1] += s1; y[r + 2] += s2; y[r + 3] += s3; }
        else { y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3; }
    }
    for (; r < row1; r++) {
        const float *w0 = w + r * ldw;
        __m512 a0 = _mm512_setzero_ps();
        for (long j = 0; j < k16; j += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + j), _mm512_loadu_ps(x + j), a0);
        if (tail) a0 = _mm512_fmadd_ps(rk_load16(w0 + k16, tail), rk_load16(x + k16, tail), a0);
        float s0 = rk_hsum16(a0);
        if (accumulate) y[r] += s0; else y[r] = s0;
    }
}

#else
void rk_avx512_lstm_row_forward(const float *xr, const float *hr, float *g, const float *cp, float *cn, float *m, float *tc,
                                long count, long H, long HS) {}
void rk_avx512_lstm_row_backward(const float *g, const float *cp, const float *tc, const float *dm, float *dc, float *dgx,
                                 long count, long H) {}
void rk_avx512_gru_row_forward(const float *xr, const float *hr, const float *bhn, float *g, const float *hp, float *hn,
                               float *hnSaved, long count, long H, long HS) {}
void rk_avx512_tanh_row_forward(const float *xr, const float *hr, float *hn, long count) {}
void rk_avx512_sgemv_rows(const float *w, long ldw, const float *x, float *y, long row0, long row1, long k, int accumulate) {}
#endif
