// The two-core split's CPU-cost guard (issue 19): a split may cost at most RK_GUARD_LIMIT times the
// CPU-seconds one thread spends on the same work; where it would cost more, the work runs on one core.
//
// Two measurements, the cheap one first. (1) Over windows of at least 0.1 s of claims (each claim is a
// region and the serial work after it), the process's CPU time is compared with that time less the
// threads' waits (part 0 at barriers and at a region's end, the helper at barriers and spinning between
// regions), what one thread would have spent by that account. Waits are timed on the wall clock, so a
// waiter that was descheduled counts in full: the estimate errs high and, when within the limit, settles
// the question for free. (2) Only when it is above the limit does a probe window run every claim on one
// core; its CPU-seconds per claim, against the split window's, is the measured cost (the same code and
// data, a minute of difference in time: a repetitive loop, as training, scoring or sampling are). Above
// the limit: one core for a hold of 0.5 s, doubling to 8 s while probes keep confirming it. Within it: the
// split runs unwatched for 2 s, doubling to 16 s, before the estimate is looked at again.
#include "RecurrentKernels.h"

#define RK_GUARD_LIMIT 1.25
#define RK_GUARD_WINDOW 0.1
#define RK_GUARD_MIN_CLAIMS 8

enum { MEASURE, PROBE_ONE, HOLD_ONE, HOLD_SPLIT };

void rk_split_guard_init(rk_split_guard *g, double (*cpu_seconds)(void)) {
    *g = (rk_split_guard){0};
    g->cpu_seconds = cpu_seconds;
    g->state = MEASURE;
    g->window_start = -1;
    g->estimate = -1;
    g->ratio = -1;
}

static void start_window(rk_split_guard *g, double now, double waste) {
    g->window_start = now;
    g->window_cpu = g->cpu_seconds();
    g->window_waste = waste;
    g->window_claims = 1;
}

int rk_split_guard_claim(rk_split_guard *g, double now, double waste) {
    if (g->state == HOLD_ONE || g->state == HOLD_SPLIT) {
        if (now < g->until) return g->state == HOLD_SPLIT;
        g->state = MEASURE;
        g->window_start = -1;
    }
    if (g->window_start < 0 || now - g->last_claim > RK_GUARD_WINDOW) {   // first claim, or after a pause
        g->last_claim = now;
        start_window(g, now, waste);
        return g->state == MEASURE;
    }
    g->last_claim = now;
    g->window_claims++;
    if (now - g->window_start < RK_GUARD_WINDOW || g->window_claims <= RK_GUARD_MIN_CLAIMS) return g->state == MEASURE;
    // The window's CPU time covers its claims but this one.
    double cpu = g->cpu_seconds() - g->window_cpu;
    double perClaim = cpu / (double)(g->window_claims - 1);
    if (g->state == MEASURE) {
        double one = cpu - (waste - g->window_waste);
        g->estimate = one > 0 ? cpu / one : 1e9;
        g->windows++;
        if (g->estimate <= RK_GUARD_LIMIT) {
            start_window(g, now, waste);
            return 1;
        }
        g->split_per_claim = perClaim;
        g->state = PROBE_ONE;
        start_window(g, now, waste);
        return 0;
    }
    // PROBE_ONE: every claim of the window ran on one core.
    g->probes++;
    g->ratio = perClaim > 0 ? g->split_per_claim / perClaim : 1e9;
    if (g->ratio > RK_GUARD_LIMIT) {
        g->over++;
        g->hold_one = g->hold_one == 0 ? 0.5 : (g->hold_one < 8 ? 2 * g->hold_one : 8);
        g->hold_split = 0;
        g->state = HOLD_ONE;
        g->until = now + g->hold_one;
        return 0;
    }
    g->hold_one = 0;
    g->hold_split = g->hold_split == 0 ? 2 : (g->hold_split < 16 ? 2 * g->hold_split : 16);
    g->state = HOLD_SPLIT;
    g->until = now + g->hold_split;
    return 1;
}
