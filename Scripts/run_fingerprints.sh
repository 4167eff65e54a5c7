#!/usr/bin/env bash
# Fixed-seed short runs of every training task; prints one line per file of each run folder:
# `task file sha256`, with metrics.csv's clock columns (seconds, tokens_per_second) blanked first.
# Two builds that print the same lines train bit-identically and write the same checkpoint bytes; the
# `[weights]` lines compare a checkpoint's model tensors alone (no metadata, no optimizer state).
#   Scripts/run_fingerprints.sh .build/release/recurrent [work-folder] > fingerprints.txt
set -euo pipefail
BIN=${1:?usage: run_fingerprints.sh path/to/recurrent [work-folder]}
WORK=${2:-$(mktemp -d)}
DATA=$(cd "$(dirname "$0")/../Examples/data" && pwd)
mkdir -p "$WORK"
head -c 60000 "$DATA/tinyshakespeare/input.txt" > "$WORK/text.txt"

run() {  # task, then the arguments of `recurrent train`
  local task=$1; shift
  rm -rf "$WORK/$task"
  "$BIN" train "$@" --out "$WORK/$task" > "$WORK/$task.log" 2>&1 || { echo "$task failed:"; cat "$WORK/$task.log"; exit 1; }
}
run charlm charlm --data "$WORK/text.txt" --hidden 16 --embedding 8 --batch 8 --seq-len 16 --steps 30 --eval-every 10 --seed 3
run classify classify --data "$DATA/sentiment" --hidden 8 --embedding 8 --epochs 2 --steps 60 --seed 3
run tag tag --data "$DATA/snips" --hidden 8 --embedding 8 --epochs 2 --steps 40 --seed 3
run forecast forecast --data "$DATA/co2/co2_mm_mlo.txt" --hidden 6 --epochs 3 --seed 3
run translate translate --synthetic reverse --synthetic-train 300 --synthetic-eval 40 --min-symbols 4 --max-symbols 8 --hidden 12 --embedding 8 --epochs 2 --batch 32 --seed 3
run adding adding --hidden 8 --steps 30 --eval-every 10 --batch 16 --validation-size 32 --seed 3
run copy copy --hidden 8 --steps 30 --eval-every 10 --batch 16 --validation-size 32 --delay 10 --seed 3

for task in charlm classify tag forecast translate adding copy; do
  for f in "$WORK/$task"/*; do
    name=$(basename "$f")
    case "$name" in
      metrics.csv)  # blank the clock columns
        sum=$(awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="seconds"||$i=="tokens_per_second") skip[i]=1}
                        {for(i=1;i<=NF;i++) if(skip[i]) $i=""; print}' OFS=, "$f" | sha256sum | cut -c1-16) ;;
      *.safetensors)  # the whole file, then its tensors alone (names, shapes and bytes; not the metadata)
        echo "$task $name $(sha256sum < "$f" | cut -c1-16)"
        name="$name[weights]"
        sum=$(python3 -c '
import json, struct, sys, hashlib
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n]); header.pop("__metadata__", None)
h = hashlib.sha256()
for key in sorted(k for k in header if not k.startswith("optimizer.")):
    start, end = header[key]["data_offsets"]
    h.update(key.encode()); h.update(str(header[key]["shape"]).encode()); h.update(raw[8 + n + start:8 + n + end])
print(h.hexdigest()[:16])' "$f") ;;
      config.json|options.json|vocabulary.json) sum=$(sha256sum < "$f" | cut -c1-16) ;;
      *) continue ;;   # clock-bearing reports (test.json, result.json), pictures, TensorBoard events
    esac
    echo "$task $name $sum"
  done
done
