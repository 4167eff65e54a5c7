#!/usr/bin/env python3
"""Runs every benchmark configuration in PyTorch and in the Swift `recurrent-bench`, alternating the two
sides in the same run, and prints a table of ratios Swift / PyTorch (tokens per second; above 1 means
Swift is faster).

    OPENBLAS_NUM_THREADS=2 python Benchmarks/compare_torch.py [--rounds 3] [--repeats 10] [--warmup 3]
        [--config NAME ...] [--bench .build/release/recurrent-bench] [--json out.json] [--markdown] [--disturbed] [--quantized]

With --quantized, inference and sampling also run quantized: PyTorch's dynamic quantization
(`torch.ao.quantization.quantize_dynamic(model, {nn.LSTM, nn.GRU, nn.Linear}, dtype=torch.qint8)`, the x86
engine) against `recurrent-bench --precision int8` (rows `infer-int8`, `sample-int8`), plus Swift's bf16 rows
(PyTorch has no bf16 dynamic quantization: its cells print n/a), and each side's int8 / fp32 speed-up.

Both sides use the same number of threads (torch.set_num_threads and OPENBLAS_NUM_THREADS, printed),
the same workloads (see docs/BENCHMARKS.md) and the same statistics (median of `repeats` timed runs after
`warmup` untimed ones); each side's figure is the median over `rounds` alternations.

Above the table: the CPU model, the kernels the Swift layers run, and the machine's fp32 FMA peak as
`recurrent-bench` measures it in its process (one core alone, both cores at once); each side's GFLOP/s of
useful work is shown as a fraction of that peak, so a reader sees where PyTorch itself runs near it.

--disturbed ("speed that holds", issue 19): every measurement runs twice in each round, once on a quiet
machine and once beside Benchmarks/disturb.py (a process pinned to core 1, busy 5 ms then asleep 5 ms: half
of one core); prints both tables and how far each Swift/PyTorch ratio moved under the disturbance.
"""
import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

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


def config_flops(name, mode):
    """FLOPs of useful work of one timed run (the weight products), as BenchConfig.forwardFlops / trainFlops."""
    kind, inp, hidden, layers, bidir, batch, steps, workload = CONFIGS[name]
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    directions = 2 if bidir else 1
    total = 0.0
    for l in range(layers):
        width = inp if l == 0 else directions * hidden
        total += directions * 2 * batch * steps * gates * hidden * (width + hidden)
    if workload == "sample":
        total += 2 * batch * steps * hidden * VOCAB
    return 3 * total if mode == "train" else total


@contextlib.contextmanager
def disturbance(on, cpu=1):
    """Runs Benchmarks/disturb.py (half of core `cpu`) for the duration of the block when `on`."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "disturb.py"), "--cpu", str(cpu)])
    try:
        time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        proc.wait()


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
    if not reference:
        cmd.append("--no-peak")
    res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    doc = json.loads(res.stdout)
    MACHINE.update(doc.get("machine") or {} if reference else {})
    return {r["mode"]: r for r in doc["results"]}


MACHINE = {}   # what recurrent-bench reported of the machine in the first round: cpu, kernel_path, peak


def machine_lines():
    m = MACHINE
    if not m:
        return ["# machine: not reported (an older recurrent-bench?)"]
    lines = [f"# cpu: {m.get('cpu')} ({m.get('family_model')}){', avx512f' if m.get('avx512f') else ''}; "
             f"Swift kernel path: {m.get('kernel_path')}"]
    for key in ("peak", "avx2_peak"):
        p = m.get(key)
        if p:
            per = " + ".join(f"{g:.1f}" for g in p["per_core_gflops"])
            lines.append(f"# fp32 FMA peak ({p['isa']}): {p['gflops']:.1f} GFLOP/s on {len(p['per_core_gflops'])} cores at once "
                         f"({per}), {p['one_core_gflops']:.1f} on one core alone")
    return lines


def peak_gflops():
    p = MACHINE.get("peak")
    return p["gflops"] if p else float("nan")


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
    ap.add_argument("--disturbed", action="store_true",
                    help="also measure every configuration beside Benchmarks/disturb.py (half of core 1) and print the ratio change")
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
    conditions = ["quiet", "disturbed"] if args.disturbed else ["quiet"]
    tables = {c: {} for c in conditions}  # condition -> (name, mode) -> {"swift": [...], "torch": [...], "swift_row": json row, ...}
    for r in range(args.rounds):
        for name in names:
            # Alternate which condition goes first from round to round.
            for condition in (conditions if r % 2 == 0 else conditions[::-1]):
                rows = tables[condition]
                modes = ["sample"] if CONFIGS[name][7] == "sample" else layer_modes
                torch_modes = modes + (["sample-int8" if modes == ["sample"] else "infer-int8"]
                                       if args.quantized and (modes == ["sample"] or "infer" in modes) else [])
                # Alternate which side goes first from round to round.
                sides = ["swift", "torch"] if r % 2 == 0 else ["torch", "swift"]
                for side in sides:
                    with disturbance(condition == "disturbed"):
                        if side == "swift":
                            got = swift_measure(args.bench, name, modes if modes != ["sample"] else ["train"], args.warmup,
                                                args.repeats, env, reference=(r == 0 and condition == "quiet"),
                                                precisions="fp32,int8,bf16" if args.quantized else "fp32")
                            for mode, row in got.items():
                                e = rows.setdefault((name, mode), {"swift": [], "torch": []})
                                e["swift"].append(row["seconds"])
                                e["swift_peak"] = row["peak_mb"]
                                if r == 0 and condition == "quiet":
                                    e["swift_row"] = row
                        else:
                            got = torch_subprocess(name, torch_modes, args.warmup, args.repeats, env)
                            for mode, (sec, peak) in got.items():
                                e = rows.setdefault((name, mode), {"swift": [], "torch": []})
                                e["torch"].append(sec)
                                e["torch_peak"] = peak
                print(f"  round {r + 1}/{args.rounds} {name} {condition} done", file=sys.stderr, flush=True)

    for line in machine_lines():
        print(line)
    results = {}
    for condition in conditions:
        if args.disturbed:
            print(f"\n## {condition}" + (" (Benchmarks/disturb.py: core 1 busy 5 ms, idle 5 ms)" if condition == "disturbed" else ""))
        results[condition] = print_table(tables[condition], tables["quiet"], args.markdown, args.quantized)
    if args.disturbed:
        print("\n## Swift/PyTorch ratio, disturbed over quiet (within 10 % is the target)")
        for q, d in zip(results["quiet"], results["disturbed"]):
            change = d["ratio"] / q["ratio"] - 1
            print(f"{q['config']:<20} {q['mode']:<6} quiet {q['ratio']:.2f}×  disturbed {d['ratio']:.2f}×  change {change * 100:+.1f}%"
                  f"  (Swift {d['swift_tokens_per_s'] / q['swift_tokens_per_s'] * 100 - 100:+.1f}%, "
                  f"PyTorch {d['torch_tokens_per_s'] / q['torch_tokens_per_s'] * 100 - 100:+.1f}%)"
                  + ("" if abs(change) <= 0.10 else "  <- beyond 10 %"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "machine": MACHINE,
                       "rows": results["quiet"], **({"disturbed_rows": results["disturbed"]} if args.disturbed else {})}, f, indent=1)


def print_table(rows, quiet_rows, markdown, quantized=False):
    """Prints one table of measurements and returns its rows (the sgemm figures come from the quiet rows)."""
    peak = peak_gflops()
    table = []
    for (name, mode), e in rows.items():
        _, _, _, _, _, batch, steps, _ = CONFIGS[name]
        tokens = batch * steps
        s = statistics.median(e["swift"])
        t = statistics.median(e["torch"]) if e["torch"] else float("nan")
        row = quiet_rows.get((name, mode), {}).get("swift_row", {})
        flops = config_flops(name, mode)
        table.append({
            "config": name, "mode": mode,
            "swift_tokens_per_s": tokens / s, "torch_tokens_per_s": tokens / t, "ratio": t / s,
            "swift_gflops": row.get("gflops", float("nan")) * row.get("seconds", s) / s,
            "sgemm_fraction": row.get("gflops", float("nan")) * row.get("seconds", s) / s / row.get("sgemm_gflops", float("nan")) if row.get("sgemm_gflops") else float("nan"),
            "torch_gflops": flops / t / 1e9, "machine_peak_gflops": peak,
            "swift_peak_fraction": flops / s / 1e9 / peak, "torch_peak_fraction": flops / t / 1e9 / peak,
            "swift_peak_mb": e.get("swift_peak", float("nan")), "torch_peak_mb": e.get("torch_peak", float("nan")),
            "swift_seconds": e["swift"], "torch_seconds": e["torch"],
        })

    header = ["config", "mode", "Swift tok/s", "PyTorch tok/s", "Swift/PyTorch", "Swift GFLOP/s", "of sgemm", "of peak",
              "PyTorch GFLOP/s", "of peak", "Swift peak MB", "PyTorch peak MB"]
    widths = [-20, -6, 12, 14, 13, 13, 9, 8, 15, 8, 13, 15]
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|")
    else:
        print(" ".join(f"{h:<{-w}}" if w < 0 else f"{h:>{w}}" for h, w in zip(header, widths)))
    for x in table:
        cells = [x["config"], x["mode"], f"{x['swift_tokens_per_s']:.0f}", f"{x['torch_tokens_per_s']:.0f}", f"{x['ratio']:.2f}×",
                 f"{x['swift_gflops']:.1f}", f"{x['sgemm_fraction'] * 100:.0f}%", f"{x['swift_peak_fraction'] * 100:.0f}%",
                 f"{x['torch_gflops']:.1f}", f"{x['torch_peak_fraction'] * 100:.0f}%", f"{x['swift_peak_mb']:.0f}", f"{x['torch_peak_mb']:.0f}"]
        if markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(" ".join(f"{c:<{-w}}" if w < 0 else f"{c:>{w}}" for c, w in zip(cells, widths)))
    if quantized:
        by = {(x["config"], x["mode"]): x for x in table}
        for (name, mode), x in by.items():
            base = by.get((name, mode.split("-")[0]))
            if "-" in mode and base:
                print(f"{name} {mode}: Swift {x['swift_tokens_per_s'] / base['swift_tokens_per_s']:.2f}× its fp32, "
                      f"PyTorch {x['torch_tokens_per_s'] / base['torch_tokens_per_s']:.2f}× its fp32")
    return table


if __name__ == "__main__":
    main()
