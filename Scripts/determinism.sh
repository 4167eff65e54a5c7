#!/usr/bin/env bash
# Determinism across runs and across BLAS thread counts (docs/RELIABILITY.md).
# Trains the same charlm run three times: OPENBLAS_NUM_THREADS=1 twice, then 2 (or THREADS=…), and
# compares the final checkpoints (best.safetensors: parameters, step and validation loss; no clock
# time in it) and the loss columns of metrics.csv. Needs a release build of `recurrent`.
#   Scripts/determinism.sh [STEPS]            HIDDEN=256 BATCH=32 THREADS=2 by default
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-30}
HIDDEN=${HIDDEN:-256}
BATCH=${BATCH:-32}
THREADS=${THREADS:-2}
BIN=.build/release/recurrent
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
head -c 200000 Examples/data/tinyshakespeare/input.txt > "$OUT/text.txt"
train() {  # threads, folder
    OPENBLAS_NUM_THREADS=$1 "$BIN" train charlm --data "$OUT/text.txt" --hidden "$HIDDEN" --layers 2 --batch "$BATCH" \
        --seq-len 64 --steps "$STEPS" --eval-every "$STEPS" --seed 3 --out "$OUT/$2" > /dev/null
}
train 1 a
train 1 b
train "$THREADS" c
losses() { cut -d, -f1,3,4 "$OUT/$1/metrics.csv"; }
compare() {  # folder folder label
    python3 - "$OUT/$1/best.safetensors" "$OUT/$2/best.safetensors" "$3" <<'PY'
import json, struct, sys
import numpy as np
def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__": continue
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=np.float32)
    return out, header.get("__metadata__", {})
a, ma = load(sys.argv[1]); b, mb = load(sys.argv[2])
differing = sum(int((a[k].view(np.uint32) != b[k].view(np.uint32)).sum()) for k in a)
total = sum(a[k].size for k in a)
worst = max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
print(f"{sys.argv[3]}: {differing} of {total} parameters differ (largest difference {worst:.3g}); "
      f"validation loss {ma.get('val_loss')} vs {mb.get('val_loss')}")
PY
}
compare a b "1 thread vs 1 thread"
if losses a | cmp -s - <(losses b); then echo "  losses: identical"; else echo "  losses: DIFFER"; fi
compare a c "1 thread vs $THREADS threads"
if losses a | cmp -s - <(losses c); then echo "  losses: identical"; else echo "  losses: differ"; fi
