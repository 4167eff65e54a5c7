// The exponential's polynomial, shared by the gate kernels of every instruction set (avx2/, avx512/).
// After Cody–Waite reduction x = n·ln 2 + r, |r| ≤ ln2/2, e^r = 1 + r + r²·p(r) with Cephes'
// expf polynomial p of degree 5, evaluated in Estrin's order rather than Horner's: the same terms, but
// three levels of fused multiply–adds instead of five, so each activation's dependency chain is shorter.
// The gate pass is bound by that chain (it keeps too few activations in flight to fill the FMA units) as
// much as by the count of operations (docs/BENCHMARKS.md); the worst error is the same.
#ifndef RECURRENT_EXP_POLYNOMIAL_H
#define RECURRENT_EXP_POLYNOMIAL_H
#define RK_EXP_P0 1.9875691500e-4f     /* r⁵ */
#define RK_EXP_P1 1.3981999507e-3f
#define RK_EXP_P2 8.3334519073e-3f
#define RK_EXP_P3 4.1665795894e-2f
#define RK_EXP_P4 1.6666665459e-1f
#define RK_EXP_P5 5.0000001201e-1f     /* r⁰ */
#endif
