#!/usr/bin/env python3
"""What the two-core split costs in CPU time (issue 19): runs `recurrent-bench` on one thread
(RECURRENT_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1) and on two (the default split, OPENBLAS_NUM_THREADS=2),
alternating the two in each round, and prints per configuration and mode the wall seconds of a run and the
CPU-seconds (user + system, every thread) per token of each, their ratio two threads over one (the target:
at most 1.25), and what the split's guard (CRecurrentKernels/SplitGuard.c) saw on two threads: its last
estimate, its last measured ratio, how many of its probes found the split over 1.25 (each followed by
a hold on one core), the share of regions that ran on one core, and the largest steal (the hypervisor's
share of all CPUs' time, /proc/stat) seen during a measurement.

    python Benchmarks/split_cost.py [--config NAME ...] [--rounds 2] [--repeats 5] [--warmup 1]
        [--bench .build/release/recurrent-bench] [--disturbed] [--markdown]

Default configurations: score-lstm2-512-b1 (batch-1 scoring of 200,000 characters through the public API,
one run) and every configuration of the bench table. --disturbed runs each measurement beside
Benchmarks/disturb.py (half of core 1) too.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_torch import CONFIGS, disturbance  # noqa: E402

SCORE = "score-lstm2-512-b1"


def run(bench, name, threads, repeats, warmup, env):
    env = dict(env, OPENBLAS_NUM_THREADS=str(threads))
    if threads == 1:
        env["RECURRENT_NUM_THREADS"] = "1"
    else:
        env.pop("RECURRENT_NUM_THREADS", None)
    if name == SCORE:                 # 200,000 characters a run: one run after one untimed
        repeats, warmup = 1, min(warmup, 1)
    cmd = [bench, "--config", name, "--json", "--no-reference", "--no-peak", "--repeats", str(repeats), "--warmup", str(warmup)]
    res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return {r["mode"]: r for r in json.loads(res.stdout)["results"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default=".build/release/recurrent-bench")
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--disturbed", action="store_true", help="also measure beside Benchmarks/disturb.py (half of core 1)")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    names = [n for c in args.config for n in c.split(",")] or [SCORE] + list(CONFIGS)
    conditions = ["quiet", "disturbed"] if args.disturbed else ["quiet"]
    got = {}   # (condition, name, mode, threads) -> [rows]
    for r in range(args.rounds):
        for name in names:
            for condition in conditions if r % 2 == 0 else conditions[::-1]:
                for threads in ((1, 2) if r % 2 == 0 else (2, 1)):
                    with disturbance(condition == "disturbed"):
                        for mode, row in run(args.bench, name, threads, args.repeats, args.warmup, os.environ).items():
                            got.setdefault((condition, name, mode, threads), []).append(row)
                print(f"  round {r + 1}/{args.rounds} {name} {condition} done", file=sys.stderr, flush=True)

    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().split()[:3]
    print(f"# load average at the end: {' '.join(load)}; rounds={args.rounds} repeats={args.repeats} warmup={args.warmup}; "
          "medians over rounds; CPU = user + system of the whole process over the warm-up and timed runs")
    header = ["condition", "config", "mode", "wall s 1T", "wall s 2T", "speed-up", "CPU-µs/tok 1T", "CPU-µs/tok 2T",
              "CPU 2T/1T", "estimate", "measured", "probes over", "2T on one core", "steal"]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|")
    else:
        print(f"{header[0]:<10} {header[1]:<20} {header[2]:<6} {header[3]:>10} {header[4]:>10} {header[5]:>9} {header[6]:>14} "
              f"{header[7]:>14} {header[8]:>10} {header[9]:>10} {header[10]:>10} {header[11]:>12} {header[12]:>15} {header[13]:>6}")
    for (condition, name, mode, threads), rows in got.items():
        if threads != 1 or (condition, name, mode, 2) not in got:
            continue
        two = got[(condition, name, mode, 2)]
        w1, w2 = (statistics.median(x["seconds"] for x in rs) for rs in (rows, two))
        c1, c2 = (statistics.median(x["cpu_s_per_token"] for x in rs) for rs in (rows, two))
        def last(key):
            values = [x[key] for x in two if x.get(key) is not None]
            return f"{values[-1]:.2f}" if values else "-"
        over = sum(x.get("split_probes_over", 0) for x in two)
        probes = sum(x.get("split_probes", 0) for x in two)
        cells = [condition, name, mode, f"{w1:.3f}", f"{w2:.3f}", f"{w1 / w2:.2f}×", f"{c1 * 1e6:.2f}", f"{c2 * 1e6:.2f}",
                 f"{c2 / c1:.2f}×" + (" !" if c2 / c1 > 1.25 else ""), last("split_estimate"), last("split_measured"),
                 f"{over}/{probes}", f"{statistics.median(x.get('one_core_fraction') or 0 for x in two) * 100:.0f}%",
                 f"{max((x.get('steal_fraction') or 0) for x in rows + two) * 100:.1f}%"]
        if args.markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(f"{cells[0]:<10} {cells[1]:<20} {cells[2]:<6} {cells[3]:>10} {cells[4]:>10} {cells[5]:>9} {cells[6]:>14} "
                  f"{cells[7]:>14} {cells[8]:>10} {cells[9]:>10} {cells[10]:>10} {cells[11]:>12} {cells[12]:>15} {cells[13]:>6}")


if __name__ == "__main__":
    main()
