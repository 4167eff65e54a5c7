#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures for the Tensor ops: Tests/Fixtures/ops/*.json.

Every case holds its inputs, the op's arguments, the output, and the gradients of
L = sum(out * w) with respect to each differentiable input, for a fixed weight w also stored.
Inputs and weights come from torch.manual_seed(SEED) and are rounded to 4 decimals so the files
stay small; they are stored, so the Swift test never depends on torch's random streams.
Everything is float64. JSON rather than safetensors keeps the fixtures readable by Foundation alone.

Usage (from the repository root):  /work/venv/bin/python Scripts/make_op_fixtures.py
"""

import json
import os

import torch

SEED = 20240611
GENERATOR = "Scripts/make_op_fixtures.py"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "ops")

torch.manual_seed(SEED)


def randn(*shape):
    return torch.randn(shape, dtype=torch.float64).mul(10_000).round().div(10_000)


def positive(*shape):
    """Values in [0.5, 2.5), for divisors."""
    return torch.rand(shape, dtype=torch.float64).mul(2).add(0.5).mul(10_000).round().div(10_000)


def tensor_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def case(name, fn, inputs, args=None, extra=None):
    """Runs fn(**inputs) (inputs: name -> float64 tensor), backpropagates sum(out * w)."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    w = randn(*out.shape)
    (out * w).sum().backward()
    c = {
        "name": name,
        "args": args or {},
        "inputs": {k: tensor_json(v) for k, v in inputs.items()},
        "weight": tensor_json(w),
        "output": tensor_json(out),
        "grads": {k: tensor_json(v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in leaves.items()},
    }
    if extra:
        c.update(extra(**inputs))
    return c


def write(op, cases):
    doc = {"generator": GENERATOR, "torch": torch.__version__, "seed": SEED, "op": op, "cases": cases}
    path = os.path.normpath(os.path.join(OUT_DIR, f"{op}.json"))
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)

    write("softmax", [
        case("axis=-1", lambda x: torch.softmax(x, -1), {"x": randn(3, 5)}, {"axis": -1}),
        case("axis=1 of 3-D", lambda x: torch.softmax(x, 1), {"x": randn(2, 3, 4)}, {"axis": 1}),
        case("axis=0", lambda x: torch.softmax(x, 0), {"x": randn(4, 3)}, {"axis": 0}),
    ])

    write("logSoftmax", [
        case("axis=-1", lambda x: torch.log_softmax(x, -1), {"x": randn(3, 5)}, {"axis": -1}),
        case("axis=0 of 3-D", lambda x: torch.log_softmax(x, 0), {"x": randn(3, 2, 4)}, {"axis": 0}),
        case("large logits", lambda x: torch.log_softmax(x, -1), {"x": randn(2, 6) * 40}, {"axis": -1}),
    ])

    write("activations", [
        case(fn, getattr(torch, fn), {"x": randn(3, 7)}, {"fn": fn}) for fn in ["tanh", "sigmoid", "relu", "square"]
    ])

    write("matmul", [
        case("(2,3,4)·(4,5)", lambda a, w: a @ w, {"a": randn(2, 3, 4), "w": randn(4, 5)}, {"transposeOther": False}),
        case("(3,4)·(5,4)ᵀ", lambda a, w: a @ w.T, {"a": randn(3, 4), "w": randn(5, 4)}, {"transposeOther": True}),
    ])

    write("bmm", [
        case("(2,3,4)·(2,4,5)", lambda a, b: torch.bmm(a, b), {"a": randn(2, 3, 4), "b": randn(2, 4, 5)}),
    ])

    gather_cases = []
    for axis, shape, index_shape in [(0, (3, 4), (2, 4)), (1, (3, 4), (3, 6)), (2, (2, 3, 4), (2, 2, 3)), (1, (4, 5), (4, 1))]:
        index = torch.randint(0, shape[axis], index_shape)
        gather_cases.append(case(
            f"axis={axis} index{list(index_shape)}", lambda x, axis=axis, index=index: torch.gather(x, axis, index),
            {"x": randn(*shape)}, {"axis": axis, "indices": index.reshape(-1).tolist(), "indexShape": list(index_shape)}))
    write("gather", gather_cases)

    index_cases = []
    for axis, shape, indices in [(0, (4, 3), [3, 0, 3, 1, 3]), (1, (2, 5, 3), [4, 4, 0]), (-1, (3, 4), [2, 1])]:
        index_cases.append(case(
            f"axis={axis}", lambda x, axis=axis, indices=indices: torch.index_select(x, axis, torch.tensor(indices)),
            {"x": randn(*shape)}, {"axis": axis, "indices": indices}))
    write("indexSelect", index_cases)

    masked = []
    for shape, mask_shape, value in [((3, 4), (3, 4), 0.0), ((2, 3, 4), (3, 1), -5.0), ((3, 4), (4,), 2.5)]:
        mask = torch.rand(*mask_shape) < 0.4
        masked.append(case(
            f"mask{list(mask_shape)} on {list(shape)}",
            lambda x, mask=mask, value=value: x.masked_fill(mask, value), {"x": randn(*shape)},
            {"mask": mask.reshape(-1).tolist(), "maskShape": list(mask_shape), "value": value}))
    write("maskedFill", masked)

    where_cases = []
    for a_shape, b_shape in [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4))]:
        out_shape = torch.broadcast_shapes(a_shape, b_shape)
        cond = torch.rand(*out_shape) < 0.5
        where_cases.append(case(
            f"a{list(a_shape)} b{list(b_shape)}", lambda a, b, cond=cond: torch.where(cond, a, b),
            {"a": randn(*a_shape), "b": randn(*b_shape)}, {"condition": cond.reshape(-1).tolist()}))
    write("where", where_cases)

    clamp_cases = []
    for lo, hi in [(-0.5, 0.8), (0.0, None), (None, 0.3)]:
        clamp_cases.append(case(
            f"min={lo} max={hi}", lambda x, lo=lo, hi=hi: torch.clamp(x, lo, hi), {"x": randn(4, 5)},
            {k: v for k, v in [("min", lo), ("max", hi)] if v is not None}))
    write("clamp", clamp_cases)

    extrema = []
    for fn in ["max", "min"]:
        for axis, keep in [(0, False), (1, True), (-1, False)]:
            def reduce(x, fn=fn, axis=axis, keep=keep):
                return getattr(torch, fn)(x, axis, keepdim=keep).values

            def indices(x, fn=fn, axis=axis):
                return {"indices": getattr(torch, fn)(x, axis).indices.reshape(-1).tolist()}
            extrema.append(case(f"{fn} axis={axis} keepDim={keep}", reduce, {"x": randn(3, 4, 5)},
                                {"fn": fn, "axis": axis, "keepDim": keep}, extra=indices))
        extrema.append(case(f"{fn} all", lambda x, fn=fn: getattr(torch, fn)(x), {"x": randn(4, 5)}, {"fn": fn}))
    write("extrema", extrema)

    reductions = []
    for fn in ["sum", "mean"]:
        for axis, keep in [(0, False), (1, True), (2, False), (-1, True)]:
            reductions.append(case(
                f"{fn} axis={axis} keepDim={keep}", lambda x, fn=fn, axis=axis, keep=keep: getattr(torch, fn)(x, axis, keepdim=keep),
                {"x": randn(2, 3, 4)}, {"fn": fn, "axis": axis, "keepDim": keep}))
        reductions.append(case(f"{fn} all", lambda x, fn=fn: getattr(torch, fn)(x), {"x": randn(3, 4)}, {"fn": fn}))
    write("reductions", reductions)

    broadcast = []
    for fn, a_shape, b_shape in [("mul", (2, 3, 4), (3, 1)), ("mul", (3, 1), (1, 4)), ("div", (2, 3, 4), (4,)), ("div", (3, 1), (2, 1, 4))]:
        op = torch.mul if fn == "mul" else torch.div
        broadcast.append(case(
            f"{fn} {list(a_shape)} {list(b_shape)}", lambda a, b, op=op: op(a, b),
            {"a": randn(*a_shape), "b": positive(*b_shape) if fn == "div" else randn(*b_shape)}, {"fn": fn}))
    write("broadcast", broadcast)


if __name__ == "__main__":
    main()
