// AVX2 + FMA versions of the Float gate kernels and the batch-1 matrix–vector product, chosen at run
// time (InstructionSet.c; avx512/GatesAVX512.c holds the 16-lane versions). The package builds for the
// baseline x86-64 target, where Swift's SIMD8<Float> becomes two SSE halves without fused multiply–add;
// these functions carry their own target attribute, so no build setting changes. Same algorithms as FastActivations.swift / FusedGateKernels.swift / GEMV.swift
// (Cody–Waite exp with Cephes' polynomial, sigmoid 1/(1+e^-x), tanh as expm1(2|x|)/(expm1(2|x|)+2), in the
// same order of operations); FMA only changes rounding in the last bit.
// Swift's versions are the fallback and the reference the tests compare with.
#include "RecurrentKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define RK_AVX2 __attribute__((target("avx2,fma")))

// The exponential's pieces, shared by sigmoid and tanh, which fold their argument's sign or factor 2
// into them; the polynomial (Cephes' expf, Estrin's order) is ExpPolynomial.h's.
#include "../ExpPolynomial.h"

// 2ⁿ from t = x·log2 e + 1.5·2²³, whose low mantissa bits hold n (the rounding trick below).
RK_AVX2 static inline __m256 rk_pow2n(__m256 t) {
    __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000 - 127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23));
}

// 1 / (1 + e^-x). e^-x = 2ⁿ e^r with r = -x − n ln 2 = −s, s = x + n ln 2: p is evaluated at −s by
// negating its odd coefficients, so −x is never formed. x is clamped to [−88.3, 87.3] (no infinities).
RK_AVX2 static inline __m256 rk_sigmoid(__m256 x) {
    // Constant first: MINPS/MAXPS return the second operand when one is NaN, so NaN propagates.
    x = _mm256_max_ps(_mm256_set1_ps(-88.3f), _mm256_min_ps(_mm256_set1_ps(87.3f), x));
    const __m256 magic = _mm256_set1_ps(12582912.0f), one = _mm256_set1_ps(1.0f);
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(-1.44269504f), magic);        // n = round(−x·log2 e)
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 s = _mm256_fmadd_ps(n, _mm256_set1_ps(0.693359375f), x);            // ln 2 in two parts
    s = _mm256_fmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), s);
    __m256 s2 = _mm256_mul_ps(s, s);
    __m256 q0 = _mm256_fnmadd_ps(_mm256_set1_ps(RK_EXP_P4), s, _mm256_set1_ps(RK_EXP_P5));
    __m256 q1 = _mm256_fnmadd_ps(_mm256_set1_ps(RK_EXP_P2), s, _mm256_set1_ps(RK_EXP_P3));
    __m256 q2 = _mm256_fnmadd_ps(_mm256_set1_ps(RK_EXP_P0), s, _mm256_set1_ps(RK_EXP_P1));
    __m256 p = _mm256_fmadd_ps(_mm256_fmadd_ps(q2, s2, q1), s2, q0);           // p(−s)
    __m256 e = _mm256_mul_ps(_mm256_add_ps(_mm256_fmsub_ps(p, s2, s), one), rk_pow2n(t));  // (1 − s + s² p) 2ⁿ
    return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

// tanh x = E / (E + 2) with x's sign, E = e^{2a} − 1, a = min(|x|, 9.1) (tanh 9.1 rounds to 1). No cancellation
// anywhere, so no separate polynomial for small |x| and no blend: 13.3 cycles per 8 values against 21.8 for
// 1 − 2/(e^{2a} + 1) with an odd Taylor series below 0.4 (both computed, then blended), for a worst error of
// 2.40 ulp against 1.93 (the sigmoid's is 2.48; Benchmarks/Micro/activations.c).
// e^{2a} = 2ⁿ e^r with r = 2a − n ln 2 = 2h, h = a − n·(ln 2)/2, and e^r − 1 = r + r² p(r) = 2 (h + h² P(h)) = 2z
// with P(h) = 2 p(2h), whose coefficients are p's times powers of two (exact). Then E = 2ⁿ (1 + 2z) − 1 =
// fma(2·2ⁿ, z, 2ⁿ − 1): one rounding, and for n = 0 (|x| < 0.17) exactly 2z, the expm1 polynomial itself.
RK_AVX2 static inline __m256 rk_tanh(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), signMask = _mm256_set1_ps(-0.0f);
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 a = _mm256_min_ps(_mm256_set1_ps(9.1f), _mm256_andnot_ps(signMask, x));     // NaN stays NaN (above)
    __m256 t = _mm256_fmadd_ps(a, _mm256_set1_ps(2.88539008f), magic);         // n = round(2a·log2 e)
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 h = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.3466796875f), a);
    h = _mm256_fnmadd_ps(n, _mm256_set1_ps(-1.06097220e-4f), h);
    __m256 h2 = _mm256_mul_ps(h, h);
    __m256 q0 = _mm256_fmadd_ps(_mm256_set1_ps(4 * RK_EXP_P4), h, _mm256_set1_ps(2 * RK_EXP_P5));
    __m256 q1 = _mm256_fmadd_ps(_mm256_set1_ps(16 * RK_EXP_P2), h, _mm256_set1_ps(8 * RK_EXP_P3));
    __m256 q2 = _mm256_fmadd_ps(_mm256_set1_ps(64 * RK_EXP_P0), h, _mm256_set1_ps(32 * RK_EXP_P1));
    __m256 p = _mm256_fmadd_ps(_mm256_fmadd_ps(q2, h2, q1), h2, q0);           // P(h)
    __m256 z = _mm256_fmadd_ps(p, h2, h);                                      // (e^r − 1) / 2
    __m256 s = rk_pow2n(t);
    __m256 e = _mm256_fmadd_ps(_mm256_add_ps(s, s), z, _mm256_sub_ps(s, one));
    __m256 r = _mm256_div_ps(e, _mm256_add_ps(e, _mm256_set1_ps(2.0f)));
    return _mm256_or_ps(r, _mm256_and_ps(signMask, x));
}

// Loads/stores of n < 8 lanes (tails) through a mask.
RK_AVX2 static inline __m256i rk_mask(long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define RK_LD(p, n, m) ((n) >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), (m)))
#define RK_ST(p, v, n, m) do { if ((n) >= 8) _mm256_storeu_ps((p), (v)); else _mm256_maskstore_ps((p), (m), (v)); } while (0)

// Each kernel below is written once for 8 units at j, of which n are valid (n ≥ 8: all of them), and forced
// inline, so that `RK_ROWS` gives the whole vectors a loop with plain loads and stores (n is the constant 8
// there) and only the last, partial vector the masked ones (branching on n inside one loop is slower).
#define RK_INL RK_AVX2 __attribute__((always_inline)) static inline
#define RK_ROWS(count, call) do { long j_ = 0, full_ = (count) & ~7L; \
    for (; j_ < full_; j_ += 8) { const long j = j_, n = 8; call; } \
    if (j_ < (count)) { const long j = j_, n = (count) - j_; call; } } while (0)

// The LSTM step in three passes over the row: (1) the three sigmoids, with g's pre-activation parked in its
// gate slot; (2) tanh of g and the new cell; (3) tanh c and the output. One pass holds one activation's
// constants, so the 16 vector registers suffice and nothing is spilled or broadcast again per vector
// (Benchmarks/Micro/gatepass.c, docs/BENCHMARKS.md). Every element gets the same operations in the same
// order as one pass would give it, so the results are bit for bit the same.
RK_INL void rk_lstm_sigmoids(const float *xr, const float *hr, float *g, long j, long n, long H, long HS) {
    __m256i mk = rk_mask(n);
    RK_ST(g + j, rk_sigmoid(_mm256_add_ps(RK_LD(xr + j, n, mk), RK_LD(hr + j, n, mk))), n, mk);
    RK_ST(g + H + j, rk_sigmoid(_mm256_add_ps(RK_LD(xr + H + j, n, mk), RK_LD(hr + HS + j, n, mk))), n, mk);
    RK_ST(g + 3 * H + j, rk_sigmoid(_mm256_add_ps(RK_LD(xr + 3 * H + j, n, mk), RK_LD(hr + 3 * HS + j, n, mk))), n, mk);
    RK_ST(g + 2 * H + j, _mm256_add_ps(RK_LD(xr + 2 * H + j, n, mk), RK_LD(hr + 2 * HS + j, n, mk)), n, mk);
}
RK_INL void rk_lstm_cell(float *g, const float *cp, float *cn, long j, long n, long H) {
    __m256i mk = rk_mask(n);
    __m256 gg = rk_tanh(RK_LD(g + 2 * H + j, n, mk));
    RK_ST(g + 2 * H + j, gg, n, mk);
    RK_ST(cn + j, _mm256_fmadd_ps(RK_LD(g + H + j, n, mk), RK_LD(cp + j, n, mk), _mm256_mul_ps(RK_LD(g + j, n, mk), gg)), n, mk);
}
RK_INL void rk_lstm_output(const float *g, const float *cn, float *m, float *tc, long j, long n, long H) {
    __m256i mk = rk_mask(n);
    __m256 t = rk_tanh(RK_LD(cn + j, n, mk));
    RK_ST(tc + j, t, n, mk);
    RK_ST(m + j, _mm256_mul_ps(RK_LD(g + 3 * H + j, n, mk), t), n, mk);
}

RK_AVX2 void rk_lstm_row_forward(const float *xr, const float *hr, float *g, const float *cp, float *cn, float *m, float *tc,
                                 long count, long H, long HS) {
    RK_ROWS(count, rk_lstm_sigmoids(xr, hr, g, j, n, H, HS));
    RK_ROWS(count, rk_lstm_cell(g, cp, cn, j, n, H));
    RK_ROWS(count, rk_lstm_output(g, cn, m, tc, j, n, H));
}

RK_INL void rk_lstm_backward8(const float *g, const float *cp, const float *tc, const float *dm, float *dc, float *dgx,
                              long j, long n, long H) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256i mk = rk_mask(n);
    __m256 i = RK_LD(g + j, n, mk), f = RK_LD(g + H + j, n, mk), gg = RK_LD(g + 2 * H + j, n, mk), o = RK_LD(g + 3 * H + j, n, mk);
    __m256 t = RK_LD(tc + j, n, mk), d = RK_LD(dm + j, n, mk);
    __m256 dcj = _mm256_fmadd_ps(_mm256_mul_ps(d, o), _mm256_fnmadd_ps(t, t, one), RK_LD(dc + j, n, mk));
    RK_ST(dgx + j, _mm256_mul_ps(_mm256_mul_ps(dcj, gg), _mm256_mul_ps(i, _mm256_sub_ps(one, i))), n, mk);
    RK_ST(dgx + H + j, _mm256_mul_ps(_mm256_mul_ps(dcj, RK_LD(cp + j, n, mk)), _mm256_mul_ps(f, _mm256_sub_ps(one, f))), n, mk);
    RK_ST(dgx + 2 * H + j, _mm256_mul_ps(_mm256_mul_ps(dcj, i), _mm256_fnmadd_ps(gg, gg, one)), n, mk);
    RK_ST(dgx + 3 * H + j, _mm256_mul_ps(_mm256_mul_ps(d, t), _mm256_mul_ps(o, _mm256_sub_ps(one, o))), n, mk);
    RK_ST(dc + j, _mm256_mul_ps(dcj, f), n, mk);
}

RK_AVX2 void rk_lstm_row_backward(const float *g, const float *cp, const float *tc, const float *dm, float *dc, float *dgx,
                                  long count, long H) {
    RK_ROWS(count, rk_lstm_backward8(g, cp, tc, dm, dc, dgx, j, n, H));
}

RK_INL void rk_gru_forward8(const float *xr, const float *hr, const float *bhn, float *g, const float *hp, float *hn,
                            float *hnSaved, long j, long n, long H, long HS) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256i mk = rk_mask(n);
    __m256 r = rk_sigmoid(_mm256_add_ps(RK_LD(xr + j, n, mk), RK_LD(hr + j, n, mk)));
    __m256 z = rk_sigmoid(_mm256_add_ps(RK_LD(xr + H + j, n, mk), RK_LD(hr + HS + j, n, mk)));
    __m256 hnj = RK_LD(hr + 2 * HS + j, n, mk);
    if (bhn) hnj = _mm256_add_ps(hnj, RK_LD(bhn + j, n, mk));
    __m256 nn = rk_tanh(_mm256_fmadd_ps(r, hnj, RK_LD(xr + 2 * H + j, n, mk)));
    RK_ST(g + j, r, n, mk); RK_ST(g + H + j, z, n, mk); RK_ST(g + 2 * H + j, nn, n, mk); RK_ST(hnSaved + j, hnj, n, mk);
    RK_ST(hn + j, _mm256_fmadd_ps(z, RK_LD(hp + j, n, mk), _mm256_mul_ps(_mm256_sub_ps(one, z), nn)), n, mk);
}

RK_AVX2 void rk_gru_row_forward(const float *xr, const float *hr, const float *bhn, float *g, const float *hp, float *hn,
                                float *hnSaved, long count, long H, long HS) {
    RK_ROWS(count, rk_gru_forward8(xr, hr, bhn, g, hp, hn, hnSaved, j, n, H, HS));
}

RK_INL void rk_tanh8(const float *xr, const float *hr, float *hn, long j, long n) {
    __m256i mk = rk_mask(n);
    RK_ST(hn + j, rk_tanh(_mm256_add_ps(RK_LD(xr + j, n, mk), RK_LD(hr + j, n, mk))), n, mk);
}

RK_AVX2 void rk_tanh_row_forward(const float *xr, const float *hr, float *hn, long count) {
    RK_ROWS(count, rk_tanh8(xr, hr, hn, j, n));
}

RK_AVX2 static inline float rk_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

RK_AVX2 void rk_sgemv_rows(const float *w, long ldw, const float *x, float *y, long row0, long row1, long k, int accumulate) {
    long k8 = k & ~7L;
    long r = row0;
    for (; r + 4 <= row1; r += 4) {
        const float *w0 = w + r * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        long j = 0;
        for (; j < k8; j += 8) {
            __m256 xv = _mm256_loadu_ps(x + j);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j), xv, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + j), xv, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + j), xv, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + j), xv, a3);
        }
        float s0 = rk_hsum(a0), s1 = rk_hsum(a1), s2 = rk_hsum(a2), s3 = rk_hsum(a3);
        for (; j < k; j++) { s0 += w0[j] * x[j]; s1 += w1[j] * x[j]; s2 += w2[j] * x[j]; s3 += w3[j] * x[j]; }
        if (accumulate) { y[r] += s0; y[r + 1] += s1; y[r + 2] += s2; y[r + 3] += s3; }
        else { y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3; }
    }
    for (; r < row1; r++) {
        const float *w0 = w + r * ldw;
        __m256 a0 = _mm256_setzero_ps();
        long j = 0;
        for (; j < k8; j += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j), _mm256_loadu_ps(x + j), a0);
        float s0 = rk_hsum(a0);
        for (; j < k; j++) s0 += w0[j] * x[j];
        if (accumulate) y[r] += s0; else y[r] = s0;
    }
}

#else
void rk_lstm_row_forward(const float *xr, const float *hr, float *g, const float *cp, float *cn, float *m, float *tc, long count, long H, long HS) {}
void rk_lstm_row_backward(const float *g, const float *cp, const float *tc, const float *dm, float *dc, float *dgx, long count, long H) {}
void rk_gru_row_forward(const float *xr, const float *hr, const float *bhn, float *g, const float *hp, float *hn, float *hnSaved, long count, long H, long HS) {}
void rk_tanh_row_forward(const float *xr, const float *hr, float *hn, long count) {}
void rk_sgemv_rows(const float *w, long ldw, const float *x, float *y, long row0, long row1, long k, int accumulate) {}
#endif
