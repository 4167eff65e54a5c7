#!/usr/bin/env bash
# Speed of two builds of `recurrent`, A/B: runs `recurrent bench` of BEFORE and AFTER alternately on the main
# configurations (ROUNDS rounds; the order flips every round, so drift in the machine's load hits both alike),
# then prints each configuration's median tokens/s per build and the after/before ratio of the medians.
# Run it when the machine is quiet; nothing else should be compiling.
#   Scripts/bench_before_after.sh BEFORE AFTER [ROUNDS]         e.g.
#   Scripts/bench_before_after.sh /work/wt-before/.build/release/recurrent .build/release/recurrent 5
# Environment: CONFIGS (space-separated names), REPEATS (timed runs per measurement, default 10),
# WARMUP (default 3), CPU_TIME=1 (time on the process CPU clock: `recurrent bench --cpu-time`).
set -euo pipefail
BEFORE=${1:?usage: $0 BEFORE-recurrent AFTER-recurrent [ROUNDS]}
AFTER=${2:?usage: $0 BEFORE-recurrent AFTER-recurrent [ROUNDS]}
ROUNDS=${3:-5}
CONFIGS=${CONFIGS:-"lstm-256-b32-t50 gru-256-b32-t50 lstm2-512-b64-t100 bilstm-256-b32-t50 sample-lstm2-512"}
REPEATS=${REPEATS:-10}
WARMUP=${WARMUP:-3}
EXTRA=()
[[ "${CPU_TIME:-0}" == 1 ]] && EXTRA+=(--cpu-time)
for bin in "$BEFORE" "$AFTER"; do [[ -x "$bin" ]] || { echo "not an executable: $bin" >&2; exit 1; }; done

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# The processor and which kernels the library picks on it (AVX2 + FMA: the C gate kernels and the small-GEMM
# kernel; else the Swift SIMD kernels and sgemm).
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null; then
    path="AVX2 + FMA (C gate kernels, small-GEMM kernel)"
else
    path="portable (Swift SIMD gate kernels, sgemm)"
fi
echo "CPU: ${cpu:-unknown}, $(nproc) cores; kernel path: $path"
echo "OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-default}; load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?)"
echo "before: $BEFORE"
echo "after:  $AFTER"
echo "$ROUNDS rounds × {${CONFIGS}}, repeats $REPEATS, warm-up $WARMUP${EXTRA:+, ${EXTRA[*]}}"

for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then order="before after"; else order="after before"; fi
    for config in $CONFIGS; do
        for which in $order; do
            bin=$BEFORE; [[ $which == after ]] && bin=$AFTER
            "$bin" bench "$config" --json --no-reference --repeats "$REPEATS" --warmup "$WARMUP" "${EXTRA[@]}" \
                > "$OUT/$which-$config-$round.json"
        done
        echo "round $round/$ROUNDS: $config" >&2
    done
done

python3 - "$OUT" <<'PY'
import glob, json, os, statistics, sys
rows = {}   # (config, mode) -> which -> round -> tokens/s
for path in glob.glob(os.path.join(sys.argv[1], "*.json")):
    stem = os.path.basename(path)[:-len(".json")]
    which, rest = stem.split("-", 1)
    round_ = int(rest.rsplit("-", 1)[1])
    for r in json.load(open(path))["results"]:
        rows.setdefault((r["config"], r["mode"]), {}).setdefault(which, {})[round_] = r["tokens_per_s"]
print(f"{'configuration':<22}{'mode':<7}{'before tok/s':>14}{'after tok/s':>14}{'after/before':>14}  (medians over rounds; range of the per-round ratios)")
for (config, mode), runs in sorted(rows.items()):
    b, a = statistics.median(runs["before"].values()), statistics.median(runs["after"].values())
    ratios = sorted(runs["after"][k] / runs["before"][k] for k in runs["before"] if k in runs["after"])
    print(f"{config:<22}{mode:<7}{b:>14.0f}{a:>14.0f}{a / b:>14.3f}  [{ratios[0]:.3f}, {ratios[-1]:.3f}]")
PY
