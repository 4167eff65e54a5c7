// A persistent helper thread and a two-party barrier. The helper spins briefly for new work (a
// layer's step loop hands it work every few hundred microseconds), then sleeps on a condition
// variable; the barrier spins with a pause and yields the core after a while, so an oversubscribed
// machine degrades instead of stalling. Claims that may back off also pass the CPU-cost guard
// (SplitGuard.c): a split that would cost over 1.25× the CPU-seconds of one thread runs on one core.
#include "RecurrentKernels.h"
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RK_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define RK_PAUSE() __asm__ __volatile__("yield")
#else
#define RK_PAUSE() ((void)0)
#endif

static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_int claimed;                 // a region is running
static atomic_ulong generation;            // bumped once per region
static atomic_ulong finished;              // generation the helper last completed
static atomic_int sleeping;
static atomic_long arrivals[2];            // barrier arrivals of each part in the current region
static rk_pair_task current_task;
static void *current_context;
static _Thread_local int inside_region;

// Back-off: part 0 times its barrier waits. When they exceed a third of a region's time the other
// part was mostly not running (an oversubscribed machine: containers sharing two cores), where a
// split costs far more than it saves, so the next regions are refused (callers run unsplit, with
// BLAS's own threads) and the split is retried later. The refusals double with each bad region in
// a row (4, 8, … 256) and a good region clears them: one hiccup (OpenBLAS's worker threads still
// spinning after a threaded GEMM, a wake-up late) costs a few regions, not the next 256, while a
// machine that stays oversubscribed still ends up refusing almost every region.
static atomic_int adaptive = 1;
static int refuse_next;                    // regions still to refuse (claimed-thread only)
static int penalty;                        // refusals after the next bad region; 0 after a good one
static double waited;                      // part 0's barrier waits in the current region, seconds
static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// The CPU-cost guard's inputs: the threads' waits so far (part 0's in `caller_waits`, claimed-thread only;
// the helper's at barriers and spinning for the next region in `helper_waits_ns`) and the process's CPU clock.
static rk_split_guard guard;
static int guard_ready;                    // claimed-thread only, like `guard`
static double caller_waits;
static atomic_long helper_waits_ns;
static double process_cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static void add_helper_wait(double since) {
    atomic_fetch_add_explicit(&helper_waits_ns, (long)((seconds() - since) * 1e9), memory_order_relaxed);
}

long rk_processor_count(void) {
    // RECURRENT_NUM_THREADS=1 turns the split off (for instruction-count profiling, or to leave a core free).
    const char *limit = getenv("RECURRENT_NUM_THREADS");
    if (limit && atol(limit) > 0 && atol(limit) < 2) return 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static void *helper_main(void *unused) {
    (void)unused;
    inside_region = 1;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g;
        int spins = 0;
        double idle = seconds();
        while ((g = atomic_load(&generation)) == seen) {
            if (++spins < 4000) { RK_PAUSE(); continue; }   // ~0.1 ms, then sleep
            if (idle >= 0) add_helper_wait(idle);
            idle = -1;
            pthread_mutex_lock(&mutex);
            atomic_store(&sleeping, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &mutex);
            atomic_store(&sleeping, 0);
            pthread_mutex_unlock(&mutex);
            spins = 0;
        }
        if (idle >= 0) add_helper_wait(idle);
        seen = g;
        current_task(current_context, 1);
        atomic_store(&finished, g);
    }
    return 0;
}

static void start_helper(void) {
    // RECURRENT_PAIR_BACKOFF=0: never refuse a region (for a machine known to have its two cores free).
    const char *backoff = getenv("RECURRENT_PAIR_BACKOFF");
    if (backoff && backoff[0] == '0' && backoff[1] == 0) atomic_store(&adaptive, 0);
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_create(&thread, &attributes, helper_main, 0);
    pthread_attr_destroy(&attributes);
}

int rk_pair_try_acquire(void) { return rk_pair_try_acquire_backing_off(1); }

int rk_pair_try_acquire_backing_off(int back_off) {
    if (inside_region || rk_processor_count() < 2) return 0;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&claimed, &expected, 1)) return 0;
    if (back_off && atomic_load(&adaptive)) {
        if (!guard_ready) { rk_split_guard_init(&guard, process_cpu_seconds); guard_ready = 1; }
        double waits = caller_waits + 1e-9 * (double)atomic_load_explicit(&helper_waits_ns, memory_order_relaxed);
        int allowed = rk_split_guard_claim(&guard, seconds(), waits);
        guard.claims++;
        if (!allowed || refuse_next > 0) {
            if (allowed) refuse_next--;
            guard.refused++;
            atomic_store(&claimed, 0);
            return 0;
        }
    }
    pthread_once(&start_once, start_helper);
    return 1;
}

void rk_pair_release(void) { atomic_store(&claimed, 0); }

static void wait_until(atomic_ulong *value, unsigned long target) {
    int spins = 0;
    while (atomic_load(value) != target) {
        if (++spins < 4000) RK_PAUSE(); else { sched_yield(); spins = 0; }
    }
}

void rk_pair_run(rk_pair_task task, void *context) {
    atomic_store(&arrivals[0], 0);
    atomic_store(&arrivals[1], 0);
    current_task = task;
    current_context = context;
    unsigned long g = atomic_load(&generation) + 1;
    atomic_store(&generation, g);
    if (atomic_load(&sleeping)) {
        pthread_mutex_lock(&mutex);
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&mutex);
    }
    waited = 0;
    double start = seconds();
    inside_region = 1;
    task(context, 0);
    inside_region = 0;
    double before = seconds();
    wait_until(&finished, g);
    double end = seconds();
    waited += end - before;
    caller_waits += waited;
    if (waited > (end - start) / 3 && end - start > 20e-6) {
        penalty = penalty == 0 ? 4 : (penalty < 256 ? 2 * penalty : 256);
        refuse_next = penalty;
    } else {
        penalty = 0;
    }
}

void rk_pair_set_adaptive(int on) { atomic_store(&adaptive, on); refuse_next = 0; penalty = 0; }

// The guard is claimed-thread state: claim the pair to read or reset it (waiting out a running region).
static void claim_for_guard(void) {
    int expected = 0;
    while (!atomic_compare_exchange_weak(&claimed, &expected, 1)) { expected = 0; sched_yield(); }
    if (!guard_ready) { rk_split_guard_init(&guard, process_cpu_seconds); guard_ready = 1; }
}

rk_split_guard rk_pair_guard(void) {
    claim_for_guard();
    rk_split_guard copy = guard;
    atomic_store(&claimed, 0);
    return copy;
}

void rk_pair_guard_reset(void) {
    claim_for_guard();
    rk_split_guard_init(&guard, process_cpu_seconds);
    atomic_store(&claimed, 0);
}

void rk_pair_barrier(long part) {
    long mine = atomic_fetch_add(&arrivals[part], 1) + 1;
    atomic_long *other = &arrivals[1 - part];
    if (atomic_load(other) >= mine) return;
    double start = seconds();
    int spins = 0;
    while (atomic_load(other) < mine) {
        if (++spins < 4000) RK_PAUSE(); else { sched_yield(); spins = 0; }
    }
    if (part == 0) waited += seconds() - start;
    else add_helper_wait(start);
}
