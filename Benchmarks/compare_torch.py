#!/usr/bin/env python3
"""Runs every benchmark configuration in PyTorch and in the Swift `recurrent-bench`, alternating the two
sides in the same run, and prints a table of ratios Swift / PyTorch (tokens per second; above 1 means
Swift is faster).

    OPENBLAS_NUM_THREADS=2 python Benchmarks/compare_torch.py [--rounds 3] [--repeats 10] [--warmup 3]
        [--config NAME ...] [--bench .build/release/recurrent-bench] [--json out.json] [--markdown] [--quantized]

With --quantized, inference and sampling also run quantized: PyTorch's dynamic quantization
(`torch.ao.quantization.quantize_dynamic(model, {nn.LSTM, nn.GRU, nn.Linear}, dtype=torch.qint8)`, the x86
engine) against `recurrent-bench --precision int8` (rows `infer-int8`, `sample-int8`), plus Swift's bf16 rows
(PyTorch has no bf16 dynamic quantization: its cells print n/a), and each side's int8 / fp32 speed-up.

Both sides use the same number of threads (torch.set_num_threads and OPENBLAS_NUM_THREADS, printed),
the same workloads (see docs/BENCHMARKS.md) and the same statistics (median of `repeats` timed runs after
`warmup` untimed ones); each side's figure is the median over `rounds` alternations.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

CONFIGS = {
    # name: (kind, input, hidden, layers, bidirectional, batch, steps, workload)
    "lstm-256-b32-t50": ("lstm", 256, 256, 1, False, 32, 50, "layer"),
    "gru-256-b32-t50": ("gru", 256, 256, 1, False, 32, 50, "layer"),
    "rnn-256-b32-t50": ("rnn", 256, 256, 1, False, 32, 50, "layer"),
    "lstm2-512-b64-t100": ("lstm", 512, 512, 2, False, 64, 100, "layer"),
    "bilstm-256-b32-t50": ("lstm", 256, 256, 1, True, 32, 50, "layer"),
    "sample-lstm2-512": ("lstm", 512, 512, 2, False, 1, 200, "sample"),
    "sample-gru2-512": ("gru", 512, 512, 2, False, 1, 200, "sample"),
    "sample-rnn2-512": ("rnn", 512, 512, 2, False, 1, 200, "sample"),
}
VOCAB = 65


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(body, warmup, repeats):
    for _ in range(warmup):
        body()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def make_rnn(torch, kind, inp, hidden, layers, bidir):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    return cls(inp, hidden, num_layers=layers, bidirectional=bidir)


def quantize_dynamic(torch, **modules):
    """The modules, dynamically quantized to int8 as PyTorch users do it (a container, since quantize_dynamic
    swaps children, not the module it is given)."""
    holder = torch.nn.Module()
    for key, module in modules.items():
        holder.add_module(key, module)
    q = torch.ao.quantization.quantize_dynamic(holder, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8)
    return [getattr(q, key) for key in modules]


def torch_measure(torch, name, modes, warmup, repeats):
    """{mode: (seconds, peak_mb)} for PyTorch's equivalent of configuration `name`; modes ending in -int8
    run the dynamically quantized model."""
    kind, inp, hidden, layers, bidir, batch, steps, workload = CONFIGS[name]
    torch.manual_seed(42)
    out = {}
    if workload == "sample":
        emb = torch.nn.Embedding(VOCAB, inp)
        rnn = make_rnn(torch, kind, inp, hidden, layers, False).eval()
        head = torch.nn.Linear(hidden, VOCAB)
        if "sample-int8" in modes:
            qrnn, qhead = quantize_dynamic(torch, rnn=rnn, head=head)
            gen_q = torch.Generator().manual_seed(3)

            def sample_q():
                with torch.no_grad():
                    state, tok = None, 0
                    for _ in range(steps):
                        y, state = qrnn(emb(torch.tensor([[tok]])), state)
                        tok = int(torch.multinomial(torch.softmax(qhead(y[0]), dim=-1), 1, generator=gen_q).item())

            reset_peak()
            out["sample-int8"] = (timed(sample_q, warmup, repeats), peak_mb())
        gen = torch.Generator().manual_seed(3)
        token = [0]

        def sample():
            with torch.no_grad():
                state = None
                for _ in range(steps):
                    x = emb(torch.tensor([[token[0]]]))             # (1, 1, I)
                    y, state = rnn(x, state)                         # (1, 1, H)
                    probs = torch.softmax(head(y[0]), dim=-1)        # (1, V)
                    token[0] = int(torch.multinomial(probs, 1, generator=gen).item())

        reset_peak()
        out["sample"] = (timed(sample, warmup, repeats), peak_mb())
        return out

    rnn = make_rnn(torch, kind, inp, hidden, layers, bidir)
    x = torch.randn(steps, batch, inp)
    opt = torch.optim.Adam(rnn.parameters(), lr=1e-3)

    def train():
        opt.zero_grad()
        y, _ = rnn(x)
        loss = (y * y).mean()
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            rnn(x)

    qrnn = quantize_dynamic(torch, rnn=make_rnn(torch, kind, inp, hidden, layers, bidir))[0] if "infer-int8" in modes else None

    def infer_q():
        with torch.no_grad():
            qrnn(x)

    for mode in modes:
        reset_peak()
        body = {"train": train, "infer": infer, "infer-int8": infer_q}[mode]
        out[mode] = (timed(body, warmup, repeats), peak_mb())
    return out


def torch_subprocess(name, modes, warmup, repeats, env):
    """Runs `torch_measure` in a fresh process, so that PyTorch's OpenMP threads (which spin for a while
    after each parallel region) are gone while the Swift side runs, and peaks are per configuration."""
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker", name, "--modes", ",".join(modes),
           "--warmup", str(warmup), "--repeats", str(repeats), "--threads", env["OPENBLAS_NUM_THREADS"]]
    res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return {m: tuple(v) for m, v in json.loads(res.stdout).items()}


def swift_measure(bench, name, modes, warmup, repeats, env, reference, precisions="fp32"):
    mode = "all" if len(modes) == 2 else modes[0]
    cmd = [bench, "--config", name, "--mode", mode, "--json", "--warmup", str(warmup), "--repeats", str(repeats),
           "--precision", precisions]
    if not reference:
        cmd.append("--no-reference")
    res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    doc = json.loads(res.stdout)
    return {r["mode"]: r for r in doc["results"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default=".build/release/recurrent-bench")
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write all measurements here")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--quantized", action="store_true", help="also int8 (both sides) and bf16 (Swift) inference and sampling")
    ap.add_argument("--torch-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()

    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    if args.torch_worker:
        print(json.dumps(torch_measure(torch, args.torch_worker, args.modes.split(","), args.warmup, args.repeats)))
        return
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    names = [n for c in args.config for n in c.split(",")] or list(CONFIGS)
    for n in names:
        if n not in CONFIGS:
            sys.exit(f"unknown configuration {n}; known: {', '.join(CONFIGS)}")
    layer_modes = [m for m in args.modes.split(",") if m in ("train", "infer")]

    print(f"# torch {torch.__version__} threads={torch.get_num_threads()}  OPENBLAS_NUM_THREADS={env['OPENBLAS_NUM_THREADS']}  "
          f"{platform.processor() or platform.machine()} cpus={os.cpu_count()}  rounds={args.rounds} repeats={args.repeats} warmup={args.warmup}",
          flush=True)
    rows = {}  # (name, mode) -> {"swift": [...], "torch": [...], "swift_row": last json row, "torch_peak": mb}
    for r in range(args.rounds):
        for name in names:
            modes = ["sample"] if CONFIGS[name][7] == "sample" else layer_modes
            torch_modes = modes + (["sample-int8" if modes == ["sample"] else "infer-int8"]
                                   if args.quantized and (modes == ["sample"] or "infer" in modes) else [])
            # Alternate which side goes first from round to round.
            sides = ["swift", "torch"] if r % 2 == 0 else ["torch", "swift"]
            for side in sides:
                if side == "swift":
                    got = swift_measure(args.bench, name, modes if modes != ["sample"] else ["train"], args.warmup,
                                        args.repeats, env, reference=(r == 0),
                                        precisions="fp32,int8,bf16" if args.quantized else "fp32")
                    for mode, row in got.items():
                        e = rows.setdefault((name, mode), {"swift": [], "torch": []})
                        e["swift"].append(row["seconds"])
                        e["swift_peak"] = row["peak_mb"]
                        if r == 0:
                            e["swift_row"] = row
                else:
                    got = torch_subprocess(name, torch_modes, args.warmup, args.repeats, env)
                    for mode, (sec, peak) in got.items():
                        e = rows.setdefault((name, mode), {"swift": [], "torch": []})
                        e["torch"].append(sec)
                        e["torch_peak"] = peak
            print(f"  round {r + 1}/{args.rounds} {name} done", file=sys.stderr, flush=True)

    table = []
    for (name, mode), e in rows.items():
        _, _, _, _, _, batch, steps, _ = CONFIGS[name]
        tokens = batch * steps
        s = statistics.median(e["swift"])
        t = statistics.median(e["torch"]) if e["torch"] else float("nan")
        row = e.get("swift_row", {})
        table.append({
            "config": name, "mode": mode,
            "swift_tokens_per_s": tokens / s, "torch_tokens_per_s": tokens / t, "ratio": t / s,
            "swift_gflops": row.get("gflops", float("nan")) * row.get("seconds", s) / s,
            "sgemm_fraction": row.get("gflops", float("nan")) * row.get("seconds", s) / s / row.get("sgemm_gflops", float("nan")) if row.get("sgemm_gflops") else float("nan"),
            "swift_peak_mb": e.get("swift_peak", float("nan")), "torch_peak_mb": e.get("torch_peak", float("nan")),
            "swift_seconds": e["swift"], "torch_seconds": e["torch"],
        })

    header = ["config", "mode", "Swift tok/s", "PyTorch tok/s", "Swift/PyTorch", "Swift GFLOP/s", "of sgemm", "Swift peak MB", "PyTorch peak MB"]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|")
    else:
        print(f"{header[0]:<20} {header[1]:<11} {header[2]:>12} {header[3]:>14} {header[4]:>13} {header[5]:>13} {header[6]:>9} {header[7]:>13} {header[8]:>15}")
    for x in table:
        cells = [x["config"], x["mode"], f"{x['swift_tokens_per_s']:.0f}", f"{x['torch_tokens_per_s']:.0f}", f"{x['ratio']:.2f}×",
                 f"{x['swift_gflops']:.1f}", f"{x['sgemm_fraction'] * 100:.0f}%", f"{x['swift_peak_mb']:.0f}", f"{x['torch_peak_mb']:.0f}"]
        if args.markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(f"{cells[0]:<20} {cells[1]:<11} {cells[2]:>12} {cells[3]:>14} {cells[4]:>13} {cells[5]:>13} {cells[6]:>9} {cells[7]:>13} {cells[8]:>15}")
    if args.quantized:
        by = {(x["config"], x["mode"]): x for x in table}
        for (name, mode), x in by.items():
            base = by.get((name, mode.split("-")[0]))
            if "-" in mode and base:
                print(f"{name} {mode}: Swift {x['swift_tokens_per_s'] / base['swift_tokens_per_s']:.2f}× its fp32, "
                      f"PyTorch {x['torch_tokens_per_s'] / base['torch_tokens_per_s']:.2f}× its fp32")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "rows": table}, f, indent=1)


if __name__ == "__main__":
    main()
