#!/usr/bin/env python3
"""Data-parallel scaling of the char-LM, Swift (`recurrent train charlm` under mpirun) beside PyTorch DDP
(gloo backend), measured in the same run on this machine:

    python Benchmarks/compare_data_parallel.py [--recurrent .build/release/recurrent] [--steps 30] [--rounds 2] [--markdown]

Model and batch as in docs/DISTRIBUTED.md: embedding 65→256, 2×256 LSTM, linear head, per-process batch
32 windows × 100 characters of Tiny Shakespeare, Adam 2e-3, clipping 5. Configurations: 1 process × 1
thread, 2 processes × 1 thread, 1 process × 2 threads (PyTorch: torch.set_num_threads; Swift:
OPENBLAS_NUM_THREADS and RECURRENT_NUM_THREADS).

Swift's time per step is taken by differencing two runs of different lengths (start-up, data loading and
the final evaluation cancel); its all-reduce time per step is what `recurrent` prints for process 0.
PyTorch's is timed inside the loop after warm-up steps; its DDP all-reduce overlaps the backward pass, so
only the step time is given. Each side's figure is the median of `rounds` alternations (the range is printed
as the rounds go): this machine's single-core speed moves by tens of per cent from minute to minute.
"""
import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "Examples", "data", "tinyshakespeare", "input.txt")
BATCH, SEQ, EMBED, HIDDEN, LAYERS = 32, 100, 256, 256, 2


def machine():
    cpu = "unknown"
    flags = ""
    family = model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("cpu family") and family == "?":
                family = line.split(":", 1)[1].strip()
            if line.startswith("model\t") and model == "?":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    words = flags.split()
    path = "AVX2 + FMA (C gate kernels, small-GEMM kernel)" if "avx2" in words and "fma" in words else "portable (Swift SIMD, sgemm)"
    if "avx512f" in words:
        path += "; the CPU also has AVX-512"
    return f"CPU: {cpu} (family {family} model {model}), {os.cpu_count()} cores; kernel path: {path}; {platform.platform()}"


# ---------------------------------------------------------------- PyTorch side

def torch_worker(rank, world, threads, steps, warmup, queue, port):
    import torch
    import torch.nn as nn
    torch.set_num_threads(threads)
    if world > 1:
        import torch.distributed as dist
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(port)
        os.environ["GLOO_SOCKET_IFNAME"] = "lo"
        dist.init_process_group("gloo", rank=rank, world_size=world)
    text = open(DATA, encoding="utf-8").read()
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text[:200_000]], dtype=torch.long)

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(len(chars), EMBED)
            self.rnn = nn.LSTM(EMBED, HIDDEN, LAYERS)
            self.head = nn.Linear(HIDDEN, len(chars))

        def forward(self, x):
            out, _ = self.rnn(self.embedding(x))
            return self.head(out)

    torch.manual_seed(1)
    model = CharLM()
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(1 + rank)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for step in range(warmup + steps):
        starts = torch.randint(0, len(ids) - SEQ - 1, (BATCH,), generator=generator)
        window = torch.stack([ids[s:s + SEQ + 1] for s in starts.tolist()], dim=1)   # (T+1, B)
        started = time.perf_counter()
        optimizer.zero_grad()
        logits = model(window[:-1])
        loss = loss_fn(logits.reshape(-1, len(chars)), window[1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step >= warmup:
            times.append(time.perf_counter() - started)
    if world > 1:
        import torch.distributed as dist
        dist.destroy_process_group()
    if rank == 0:
        queue.put(sum(times) / len(times))


def torch_step_seconds(world, threads, steps, warmup=3):
    import torch.multiprocessing as mp
    context = mp.get_context("spawn")
    queue = context.Queue()
    port = 29500 + int(time.time()) % 1000
    processes = [context.Process(target=torch_worker, args=(r, world, threads, steps, warmup, queue, port)) for r in range(world)]
    for p in processes:
        p.start()
    result = queue.get()
    for p in processes:
        p.join()
    return result


# ---------------------------------------------------------------- Swift side

def swift_run(recurrent, world, threads, steps):
    """Wall seconds of a whole `recurrent train charlm` run of `steps` updates, and process 0's all-reduce ms per step."""
    environment = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), RECURRENT_NUM_THREADS=str(threads),
                       OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    out = tempfile.mkdtemp(prefix="dp-bench-")
    command = [recurrent, "train", "charlm", "--data", DATA, "--embedding", str(EMBED), "--hidden", str(HIDDEN),
               "--layers", str(LAYERS), "--seq-len", str(SEQ), "--batch", str(BATCH), "--steps", str(steps),
               "--eval-every", str(steps), "--lr", "2e-3", "--clip-norm", "5", "--out", out]
    if world > 1:
        command = ["mpirun", "--oversubscribe", "--bind-to", "core", "--mca", "btl_tcp_if_include", "lo", "-np", str(world)] + command
    started = time.perf_counter()
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    match = re.search(r"all-reduce ([0-9.]+) ms per step \(([0-9.]+) MB\)", result.stdout)
    allreduce = (float(match.group(1)), float(match.group(2))) if match else (0.0, 0.0)
    return seconds, allreduce


def swift_step_seconds(recurrent, world, threads, steps):
    short, _ = swift_run(recurrent, world, threads, steps)
    long, allreduce = swift_run(recurrent, world, threads, 2 * steps)
    return (long - short) / steps, allreduce


# ---------------------------------------------------------------- on paper

def paper(measured, markdown, latency=25e-6):
    """What N machines would give, from this machine's compute time per step and all-reduce bytes: a ring
    all-reduce moves 2(N−1)/N of the bytes through each link and takes 2(N−1) latencies (`latency`, one
    TCP message), not overlapped with the backward pass."""
    seconds, (allreduce_ms, megabytes) = measured
    compute = seconds - allreduce_ms / 1000
    print(f"On paper: compute {compute * 1000:.1f} ms per step per process (measured), {megabytes:.2f} MB all-reduced per step, "
          f"ring all-reduce, {latency * 1e6:.0f} µs per message:")
    rows = []
    for n in (8, 64):
        for gbits in (10, 100):
            transfer = 2 * (n - 1) / n * megabytes * 1e6 * 8 / (gbits * 1e9) + 2 * (n - 1) * latency
            step = compute + transfer
            rows.append((f"{n}", f"{gbits} Gb/s", f"{transfer * 1000:.1f}", f"{n * BATCH * SEQ / step:,.0f}", f"{compute / step * 100:.1f} %"))
    print_table(("machines", "network", "all-reduce ms/step", "tokens/s", "efficiency"), rows, markdown)


def print_table(header, rows, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        for row in [header] + rows:
            print("  ".join(f"{c:>22}" for c in row))


# ---------------------------------------------------------------- table

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recurrent", default=os.path.join(HERE, "..", ".build", "release", "recurrent"))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    import torch
    print(machine())
    print(f"PyTorch {torch.__version__} (capability {torch.backends.cpu.get_cpu_capability()}); model: embedding {EMBED}, "
          f"{LAYERS}×{HIDDEN} LSTM, per-process batch {BATCH}×{SEQ}, Adam", flush=True)
    configurations = [(1, 1), (2, 1), (1, 2)]
    runs = {}
    for round in range(args.rounds):
        for world, threads in configurations:
            seconds, allreduce = swift_step_seconds(args.recurrent, world, threads, args.steps)
            runs.setdefault(("swift", world, threads), []).append((seconds, allreduce))
            print(f"round {round + 1}: Swift {world}×{threads}: {seconds * 1000:.1f} ms/step, all-reduce {allreduce[0]:.2f} ms", flush=True)
            seconds = torch_step_seconds(world, threads, args.steps)
            runs.setdefault(("torch", world, threads), []).append((seconds, None))
            print(f"round {round + 1}: PyTorch {world}×{threads}: {seconds * 1000:.1f} ms/step", flush=True)
    # The median round of each configuration (by step time), with its own all-reduce figure.
    best = {key: sorted(values, key=lambda v: v[0])[len(values) // 2] for key, values in runs.items()}

    def tokens(side, world, threads):
        return world * BATCH * SEQ / best[(side, world, threads)][0]

    rows = []
    for side, name in (("swift", "Recurrent"), ("torch", "PyTorch DDP (gloo)")):
        one = tokens(side, 1, 1)
        for world, threads in configurations:
            seconds, allreduce = best[(side, world, threads)]
            rate = tokens(side, world, threads)
            split = f"{(seconds * 1000 - allreduce[0]):.1f} + {allreduce[0]:.2f} ({allreduce[1]:.2f} MB)" if allreduce and world > 1 else "—"
            efficiency = f"{rate / one / world * 100:.0f} %" if world > 1 else ("—" if threads == 1 else f"{rate / one / threads * 100:.0f} %")
            rows.append((name, f"{world} × {threads}", f"{rate:,.0f}", f"{rate / one:.2f}×", efficiency, f"{seconds * 1000:.1f}", split))
    paper(best[("swift", 2, 1)], args.markdown)
    print_table(("side", "processes × threads", "tokens/s", "vs 1×1", "efficiency", "ms/step", "compute + all-reduce ms"), rows, args.markdown)


if __name__ == "__main__":
    main()
