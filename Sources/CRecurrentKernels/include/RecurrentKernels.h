// C helpers for the recurrent kernels: a persistent second worker thread with a two-party spin
// barrier (per-step work split over two cores without waking a thread pool every step).
#ifndef RECURRENT_KERNELS_H
#define RECURRENT_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// A part of a two-part region: `part` is 0 on the calling thread, 1 on the helper thread.
typedef void (*rk_pair_task)(void *context, long part);

/// Number of online processors (1 means: never split).
long rk_processor_count(void);

/// Claims the helper thread for one region. Returns 0 when it is busy (a region is running on
/// another thread, or this is called from inside a region): the caller then runs unsplit.
int rk_pair_try_acquire(void);
/// Releases the claim taken by `rk_pair_try_acquire`.
void rk_pair_release(void);
/// Runs task(context, 0) on this thread and task(context, 1) on the helper; returns when both end.
/// Must be called between a successful `rk_pair_try_acquire` and `rk_pair_release`.
void rk_pair_run(rk_pair_task task, void *context);
/// Two-party barrier inside a region: returns once both parts have called it the same number of times.
void rk_pair_barrier(long part);

#ifdef __cplusplus
}
#endif

#endif
