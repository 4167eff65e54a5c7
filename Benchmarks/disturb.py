#!/usr/bin/env python3
"""A disturbance for "speed that holds" (issue 19): one process, pinned to one core, busy half of the time
(busy-waits `--busy-ms`, then sleeps `--idle-ms`), until it is killed or `--seconds` pass.

    python Benchmarks/disturb.py [--cpu 1] [--busy-ms 5] [--idle-ms 5] [--seconds 0 (forever)]

compare_torch.py --disturbed and split_cost.py --disturbed start it beside their measurements. The pinning
is taskset's (os.sched_setaffinity, the same system call).
"""
import argparse
import os
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpu", type=int, default=1, help="the core to take half of (default 1)")
    ap.add_argument("--busy-ms", type=float, default=5.0)
    ap.add_argument("--idle-ms", type=float, default=5.0)
    ap.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0: run until killed)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    busy, idle = args.busy_ms / 1e3, args.idle_ms / 1e3
    start = time.perf_counter()
    x = 0
    while args.seconds <= 0 or time.perf_counter() - start < args.seconds:
        end = time.perf_counter() + busy
        while time.perf_counter() < end:
            x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        time.sleep(idle)


if __name__ == "__main__":
    main()
