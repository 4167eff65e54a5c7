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
/// the caller waited at barriers or at the end for more than a third of the time, the next 256 claims fail.
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

#ifdef __cplusplus
}
#endif

#endif
