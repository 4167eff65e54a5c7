#!/usr/bin/env bash
# Runs `recurrent train classify-series` and the PyTorch anchor (Scripts/classify_series_torch.py) back to back on the
# three bundled UEA/UCR sets with the same model, split and hyper-parameters, printing test accuracy and wall time.
#
#   Scripts/classify_series_compare.sh [BINARY] [PYTHON]     (defaults: .build/release/recurrent, python3)
#
# Both sides: bidirectional LSTM 1×64, dropout 0.2, Adam lr 0.003 with cosine decay, batch 16, clip-norm 5, the
# whole TRAIN file (no validation split: the last epoch is kept), the TEST file scored. Swift with its default threads
# (OpenBLAS and its kernels' second worker, 2 at most); PyTorch twice, with 1 thread and with 2 (OMP_WAIT_POLICY=PASSIVE:
# on a shared 2-core machine OpenMP's spinning workers made the 2-thread JapaneseVowels run 10-40 times slower).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/recurrent}
PY=${2:-python3}
export OPENBLAS_NUM_THREADS=2
DATA=Examples/data/uea-ucr
run() {   # name, shared flags
    local name=$1; shift
    local start end
    start=$(date +%s.%N)
    local swift_acc
    swift_acc=$("$BIN" train classify-series --data "$DATA/$name" --out "runs/compare-$name" --validation-fraction 0 \
        --lr-schedule cosine "$@" | grep -Eo '^test accuracy [0-9.]+' | grep -Eo '[0-9.]+$')
    end=$(date +%s.%N)
    printf '%-15s swift  accuracy %s  %6.1f s wall\n' "$name" "$swift_acc" "$(echo "$end - $start" | bc)"
    local torch_line threads
    for threads in 1 2; do
        start=$(date +%s.%N)
        torch_line=$(OMP_WAIT_POLICY=PASSIVE "$PY" Scripts/classify_series_torch.py "$DATA/$name" --threads $threads "$@")
        end=$(date +%s.%N)
        printf '%-15s torch  accuracy %s  %6.1f s wall   (%s)\n' "$name" "$(echo "$torch_line" | grep -Eo 'test accuracy [0-9.]+' | grep -Eo '[0-9.]+$')" \
            "$(echo "$end - $start" | bc)" "$torch_line"
    done
}
run JapaneseVowels --pooling final --epochs 60
run BasicMotions --patch 10 --epochs 100
run GunPoint --patch 10 --epochs 200
