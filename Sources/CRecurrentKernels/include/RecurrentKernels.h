// C helpers for the recurrent kernels: a persistent second worker thread with a two-party spin
// barrier (per-step work split over two cores without waking a thread pool every step).
#ifndef RECURRENT_KERNELS_H
#define RECURRENT_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// A part of a two-part region: `part` is 0 on the calling thread, 1 on the helper thread.
typedef void (*rk_pair_task)(void *context, long part);

/// Number of online processors (1 means: never split); RECURRENT_NUM_THREADS=1 in the environment makes it 1.
long rk_processor_count(void);

/// Claims the helper thread for one region. Returns 0 when it is busy (a region is running on
/// another thread, or this is called from inside a region): the caller then runs unsplit.
int rk_pair_try_acquire(void);
/// `rk_pair_try_acquire`, which with back_off = 0 ignores the back-off (a caller that must split, e.g. a test).
int rk_pair_try_acquire_backing_off(int back_off);
/// Releases the claim taken by `rk_pair_try_acquire`.
void rk_pair_release(void);
/// Runs task(context, 0) on this thread and task(context, 1) on the helper; returns when both end.
/// Must be called between a successful `rk_pair_try_acquire` and `rk_pair_release`.
void rk_pair_run(rk_pair_task task, void *context);
/// Turns the back-off off (micro-benchmarks that measure every region) or on (default): after a region in which
/// the caller waited at barriers or at the end for more than a third of the time, the next 256 claims fail; and
/// the CPU-cost guard (SplitGuard.c) is consulted only while it is on.
void rk_pair_set_adaptive(int on);
/// Two-party barrier inside a region: returns once both parts have called it the same number of times.
void rk_pair_barrier(long part);

/// 1 when the processor has AVX2 and FMA (x86-64), so the functions below may be called; else 0
/// (other architectures: the functions below do nothing and must not be used). InstructionSet.c.
int rk_has_avx2_fma(void);
/// LSTM step over `count` units of one row (gate blocks `H` apart in xr and g, `HS` apart in hr);
/// LSTMGates.swift's forwardFloat.
void rk_lstm_row_forward(const float *xr, const float *hr, float *g, const float *cp, float *cn, float *m, float *tc,
                         long count, long H, long HS);
/// LSTMGates.swift's backwardFloat.
void rk_lstm_row_backward(const float *g, const float *cp, const float *tc, const float *dm, float *dc, float *dgx,
                          long count, long H);
/// GRUGates.swift's forwardFloat (`bhn` may be null; gate blocks `HS` apart in hr).
void rk_gru_row_forward(const float *xr, const float *hr, const float *bhn, float *g, const float *hp, float *hn,
                        float *hnSaved, long count, long H, long HS);
/// RNNGates.swift's tanhForward.
void rk_tanh_row_forward(const float *xr, const float *hr, float *hn, long count);
/// y[r] (=|+=) W[r, 0..<k] · x for r in [row0, row1); GEMV.swift's gemvRowRange.
void rk_sgemv_rows(const float *w, long ldw, const float *x, float *y, long row0, long row1, long k, int accumulate);

/// Floats `rk_pack_panels` writes for an (n, k) operand: n rounded up to a multiple of 16, times k.
long rk_packed_panel_size(long n, long k);
/// Packs the operand B (n, k) of `rk_sgemm_packed`, element (j, p) read at src[j·sj + p·sp], into panels of
/// 16 rows (avx2/SmallGEMMAVX2.c; the AVX-512 product reads the same panels); dst holds `rk_packed_panel_size(n, k)` floats. Needs AVX2 + FMA.
void rk_pack_panels(const float *src, long sj, long sp, long n, long k, float *dst);
/// C (m, n; row stride ldc) = bias + A (m, k; row stride lda) · Bᵀ for B packed by `rk_pack_panels`, bias
/// (n values, added to every row) or null; one thread, overwrites C. Needs AVX2 + FMA.
void rk_sgemm_packed(long m, long n, long k, const float *a, long lda, const float *packed, const float *bias,
                     float *c, long ldc);
// ---- Instruction sets (issue 19): detection, RECURRENT_ISA, the AVX-512 kernels (InstructionSet.c, avx512/) ----

/// Kernel paths, best last; `rk_isa_selected` returns one of them or an error below.
enum { RK_ISA_GENERIC = 0, RK_ISA_AVX2 = 1, RK_ISA_AVX512 = 2 };
/// `rk_isa_selected`: RECURRENT_ISA names no path (not avx512, avx2 or generic), or one this processor lacks.
enum { RK_ISA_ERROR_UNKNOWN = -1, RK_ISA_ERROR_UNSUPPORTED = -2 };
/// Bits of `rk_isa_features`.
enum {
    RK_FEATURE_AVX2_FMA = 1, RK_FEATURE_AVX512F = 2, RK_FEATURE_AVX512BW = 4, RK_FEATURE_AVX512VL = 8,
    RK_FEATURE_AVX512VNNI = 16, RK_FEATURE_AVX512BF16 = 32
};
/// The processor's features that matter to the kernels (usable ones: the OS saves their registers), read once.
unsigned rk_isa_features(void);
/// The best path this processor runs: RK_ISA_AVX512 (F + BW + VL), RK_ISA_AVX2 (AVX2 + FMA) or RK_ISA_GENERIC.
int rk_isa_detected(void);
/// `rk_isa_detected`, or the path RECURRENT_ISA names (read once); RK_ISA_ERROR_* when that value is unknown or
/// names a path this processor lacks.
int rk_isa_selected(void);
/// RECURRENT_ISA's value when set and not empty, else null.
const char *rk_isa_requested(void);

/// The AVX-512 (F, BW, VL) versions of the AVX2 kernels above, same arguments (avx512/GatesAVX512.c,
/// avx512/SmallGEMMAVX512.c): 16 lanes, masked tails. The gate kernels and the packed product give results
/// bit-identical to the AVX2 ones; the matrix–vector product sums in another order (rounding differs).
/// Call only when `rk_isa_detected()` is RK_ISA_AVX512.
void rk_avx512_lstm_row_forward(const float *xr, const float *hr, float *g, const float *cp, float *cn, float *m, float *tc,
                                long count, long H, long HS);
void rk_avx512_lstm_row_backward(const float *g, const float *cp, const float *tc, const float *dm, float *dc, float *dgx,
                                 long count, long H);
void rk_avx512_gru_row_forward(const float *xr, const float *hr, const float *bhn, float *g, const float *hp, float *hn,
                               float *hnSaved, long count, long H, long HS);
void rk_avx512_tanh_row_forward(const float *xr, const float *hr, float *hn, long count);
void rk_avx512_sgemv_rows(const float *w, long ldw, const float *x, float *y, long row0, long row1, long k, int accumulate);
/// `rk_sgemm_packed` on the same panels (`rk_pack_panels`).
void rk_avx512_sgemm_packed(long m, long n, long k, const float *a, long lda, const float *packed, const float *bias,
                            float *c, long ldc);

/// glibc: returns the allocator's free memory to the system (malloc_trim(0)); elsewhere nothing.
void rk_release_free_memory(void);

// Machine peak and the split's CPU cost (issue 19: benchmarks that report the machine, a split that holds).
/// `iterations` rounds of 12 independent 8-wide FMA chains (AVX2 + FMA; 192 FLOPs a round), the fp32 FMA peak
/// loop of Benchmarks/Micro/peak.c; returns a checksum. Needs `rk_has_avx2_fma`; elsewhere returns 0 at once.
float rk_peak_fma_avx2(long iterations);
/// 1 when the processor has AVX-512F, so that `rk_peak_fma_avx512` may be called; else 0.
int rk_has_avx512f(void);
/// `iterations` rounds of 24 independent 16-wide FMA chains (AVX-512F; 768 FLOPs a round); returns a checksum.
float rk_peak_fma_avx512(long iterations);
/// The state of the split's CPU-cost guard (SplitGuard.c), one per process in Pair.c; a value so that tests can
/// drive it with chosen clocks. Read the outputs; the rest is the guard's own.
typedef struct rk_split_guard {
    double (*cpu_seconds)(void);          // the process's CPU time (CLOCK_PROCESS_CPUTIME_ID in Pair.c)
    int state;
    long window_claims;
    double window_start, window_cpu, window_waste, last_claim, split_per_claim, until, hold_one, hold_split;
    /// Outputs: the last window's wall-clock estimate of CPU-seconds split over one thread (an upper bound; -1
    /// before the first), the last probe's measured ratio (-1 before the first probe), the windows estimated,
    /// the probes run (windows on one core after an estimate above 1.25), and the probes above 1.25 (each
    /// followed by a hold on one core).
    double estimate, ratio;
    long windows, probes, over;
    /// Kept by Pair.c: the claims that may back off, and those that ran on one core (refused by the guard or by the
    /// back-off after a region with long waits).
    long claims, refused;
} rk_split_guard;
/// A fresh guard that reads the process's CPU time with `cpu_seconds`.
void rk_split_guard_init(rk_split_guard *g, double (*cpu_seconds)(void));
/// Called at each claim of the helper that may back off, with the monotonic time and the threads' total waits so
/// far (seconds): returns 1 when this claim may split, 0 when it must run on one core.
int rk_split_guard_claim(rk_split_guard *g, double now, double waste);
/// A copy of the process's guard (Pair.c), for reports.
rk_split_guard rk_pair_guard(void);
/// Starts the process's guard afresh (tests, and benchmarks between configurations).
void rk_pair_guard_reset(void);

// MARK: int8 and bf16 inference (avx2/QuantizedAVX2.c; QuantizedMatrix.swift). Need AVX2 + FMA.
#include <stdint.h>
/// Quantizes rows of A (m, k; row stride lda) to 7-bit unsigned values q (m, kp; row stride ldq, zero past k) with
/// per-row scale and zero point: q = clamp(round(a / scale) + zero, 0, 127), the row's range widened to hold 0.
void rk_q8_quantize_rows(long m, long k, long kp, const float *a, long lda, uint8_t *q, long ldq, float *scale,
                         int32_t *zero);
/// C (m, n) = dequantized A (m, kp; from rk_q8_quantize_rows) · Wᵀ + bias for W (n, kp) s8 with per-row scales and
/// sums (wsum[j] = Σ_p W[j, p]); bias may be null. kp a multiple of 32, at most 131072.
void rk_q8_gemm(long m, long n, long kp, const uint8_t *a, long lda, const float *ascale, const int32_t *azero,
                const int8_t *w, long ldw, const float *wscale, const int32_t *wsum, const float *bias, float *c, long ldc);
/// C (m, n) = A (m, k) · Wᵀ + bias for W (n, k) in bf16 (rows of ldw ≥ k rounded up to 8, zero-padded); bias may be null.
void rk_bf16_gemm(long m, long n, long k, const float *a, long lda, const uint16_t *w, long ldw, const float *bias,
                  float *c, long ldc);
/// 1 when the processor has AVX-512 VNNI (and BW), so rk_q8_gemm_vnni may run; else 0.
int rk_has_avx512_vnni(void);
/// 1 when the processor has AVX512-BF16 (and BW), so rk_bf16_gemm_avx512 may run; else 0.
int rk_has_avx512_bf16(void);
/// rk_q8_gemm with `vpdpbusd` (avx512/QuantizedAVX512.c): the same result, bit for bit.
void rk_q8_gemm_vnni(long m, long n, long kp, const uint8_t *a, long lda, const float *ascale, const int32_t *azero,
                     const int8_t *w, long ldw, const float *wscale, const int32_t *wsum, const float *bias, float *c, long ldc);
/// rk_bf16_gemm with `vdpbf16ps`: A's rows rounded to bf16 first (another result than the converting path).
void rk_bf16_gemm_avx512(long m, long n, long k, const float *a, long lda, const uint16_t *w, long ldw, const float *bias,
                         float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif
