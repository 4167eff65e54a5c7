#!/usr/bin/env python3
"""Fixtures for Tests/RecurrentIOTests, written with Hugging Face's own safetensors library.

    python Scripts/make_io_fixtures.py            # (re)writes Tests/Fixtures/io/*.safetensors
    python Scripts/make_io_fixtures.py --check D  # reads the files the Swift tests wrote into D
                                                  # (RECURRENT_IO_EXPORT_DIR=D swift test --filter RecurrentIOTests)

Needs torch and safetensors. Every value is exactly representable in its dtype so the Swift tests
can compare with ==. The Swift tests hold the same values; change both together.

Files:
  reference.safetensors   F32, F64, F16, BF16, I64, I32, U8, BOOL tensors, a scalar, an empty tensor,
                          and metadata naming this script and the library versions.
  python_f32.safetensors  F32 only, one metadata key: the Swift writer must produce these exact bytes.
  python_f64.safetensors  F64 only, no metadata: likewise.
  checkpoint.safetensors  a Recurrent checkpoint (format/version/config/vocabulary metadata) written
                          from Python, to show the convention is usable from there.
"""
import argparse
import json
import math
import os
import sys

import safetensors
import torch
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "io")

INF = float("inf")
NAN = float("nan")


def reference_tensors():
    return {
        "f32": torch.tensor([[0.0, 1.0, -2.5], [3.1415927410125732, 1e-45, 3.4028234663852886e38]], dtype=torch.float32),
        "f64": torch.tensor([1.0 / 3.0, -0.0, 1e300], dtype=torch.float64),
        # 1, -2.5, largest half, smallest normal half, smallest subnormal half, ±inf, -0, NaN
        "f16": torch.tensor([[1.0, -2.5, 65504.0], [2.0**-14, 2.0**-24, INF], [-INF, -0.0, NAN]], dtype=torch.float16),
        # 1, -3.140625, largest bfloat16, a subnormal bfloat16 (2^-133), inf
        "bf16": torch.tensor([1.0, -3.140625, 3.3895313892515355e38, 2.0**-133, INF], dtype=torch.bfloat16),
        "i64": torch.tensor([-(2**53), 0, 2**53], dtype=torch.int64),
        "i32": torch.tensor([[-7, 0], [7, 2147483647]], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False], dtype=torch.bool),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }


def f32_tensors():
    return {
        "weight_ih_l0": (torch.arange(12, dtype=torch.float32) * 0.25 - 1.0).reshape(3, 4),
        "bias_ih_l0": torch.tensor([0.5, -0.5, 1.5], dtype=torch.float32),
        "embedding.weight": torch.tensor([[1.0, 2.0], [-1.0, 0.125]], dtype=torch.float32),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 2, dtype=torch.float32),
        'näme "q"\n': torch.tensor([7.0], dtype=torch.float32),
    }


def f64_tensors():
    return {
        "b": torch.tensor([0.1, -0.2], dtype=torch.float64),
        "a": torch.tensor([[1.0 / 3.0], [2.0 / 3.0], [2.0**-1030]], dtype=torch.float64),
    }


def checkpoint():
    tensors = {
        "rnn.weight_ih_l0": torch.tensor([[0.5, -0.25], [1.0, 2.0]], dtype=torch.float32),
        "rnn.bias_ih_l0": torch.tensor([0.0, 1.0], dtype=torch.float32),
    }
    metadata = {
        "format": "recurrent-checkpoint",
        "version": "1",
        "config": json.dumps({"hidden_size": 2, "cell": "rnn", "layers": 1}, sort_keys=True),
        "vocabulary": json.dumps(["<pad>", "a", "b", "\u00e9", "\n"]),
        "step": "42",
    }
    return tensors, metadata


def write():
    os.makedirs(OUT, exist_ok=True)
    save_file(reference_tensors(), os.path.join(OUT, "reference.safetensors"), metadata={
        "generator": "Scripts/make_io_fixtures.py",
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "note": "ünïcode ✓",
    })
    save_file(f32_tensors(), os.path.join(OUT, "python_f32.safetensors"), metadata={"format": "pt"})
    save_file(f64_tensors(), os.path.join(OUT, "python_f64.safetensors"))
    tensors, metadata = checkpoint()
    save_file(tensors, os.path.join(OUT, "checkpoint.safetensors"), metadata=metadata)
    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")
    print(f"torch {torch.__version__}, safetensors {safetensors.__version__}")


def same(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(torch.nan_to_num(a), torch.nan_to_num(b)) \
        and torch.equal(torch.isnan(a), torch.isnan(b))


def check(directory):
    """Loads the files the Swift tests exported and compares them with what Python expects."""
    ok = True

    def expect(cond, what):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + what)
        ok &= bool(cond)

    # Written by Swift from the values of f32_tensors() / f64_tensors(): must equal Python's bytes.
    for name in ["swift_f32.safetensors", "swift_f64.safetensors"]:
        ours = open(os.path.join(directory, name), "rb").read()
        theirs = open(os.path.join(OUT, name.replace("swift_", "python_")), "rb").read()
        expect(ours == theirs, f"{name} is byte-identical to {name.replace('swift_', 'python_')}")
    loaded = load_file(os.path.join(directory, "swift_f32.safetensors"))
    expect(all(same(loaded[k], v) for k, v in f32_tensors().items()), "swift_f32 values")

    # Written by Swift with awkward names, special values and metadata.
    from safetensors import safe_open
    with safe_open(os.path.join(directory, "swift_special.safetensors"), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    expect(meta == {"kë\"y": "vä\\l\tue", "empty": ""}, f"swift_special metadata {meta!r}")
    t = tensors.get("nan\u0001/inf")
    expect(t is not None and t.dtype == torch.float64 and math.isnan(t[0]) and t[1] == INF and t[2] == -INF
           and str(t[3].item()) == "-0.0", "swift_special values")
    expect(tensors.get("💥").shape == (2, 0, 3), "swift_special empty tensor")

    # A checkpoint written by Swift.
    with safe_open(os.path.join(directory, "swift_checkpoint.safetensors"), "pt") as f:
        meta = f.metadata()
        w = f.get_tensor("rnn.weight_ih_l0")
    expect(meta["format"] == "recurrent-checkpoint" and meta["version"] == "1", "swift_checkpoint format")
    expect(json.loads(meta["config"]) == {"cell": "lstm", "hidden_size": 3}, f"swift_checkpoint config {meta['config']}")
    expect(json.loads(meta["vocabulary"]) == ["<pad>", "\"", "\\", "\u00e9", "\n"], "swift_checkpoint vocabulary")
    expect(w.shape == (2, 3) and w.dtype == torch.float32, "swift_checkpoint tensor")
    print("all good" if ok else "MISMATCH")
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", metavar="DIR", help="check the files exported by the Swift tests into DIR")
    args = parser.parse_args()
    if args.check:
        sys.exit(0 if check(args.check) else 1)
    write()
