#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures for the recurrent cells and the Jordan network:
Tests/Fixtures/cells/{rnn_cell,lstm_cell,gru_cell,jordan}.json.

Cells: each case steps a cell over T time steps in a Python loop (state fed back, so gradients flow
through the state) and stores the parameters under PyTorch's names (weight_ih, weight_hh, bias_ih,
bias_hh), the inputs x (T, B, I) and the initial state when there is one, the per-step outputs, and
the gradients of L = sum(out * w) with respect to x, the initial state and every parameter.
RNNCell, LSTMCell and GRUCell are torch.nn's own cells. PyTorch has no GRU with the reset gate
applied before the recurrent projection (the original paper's variant, Keras reset_after=False), so
that case is written out below with torch ops and autograd:
    n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)

Jordan: PyTorch has no Jordan network either. The reference is a step loop written with torch ops,
run one sequence at a time (batch of one, only its valid steps), independently of how the Swift
layer batches rows and handles lengths:
    h_t = act(W_ih x_t + b_ih + W_yh y_{t-1}),   y_t = act_out(W_ho h_t + b_ho)
Layer k > 0 reads layer k-1's outputs (directions concatenated); the reverse direction runs over the
valid steps of a sequence backwards; outputs past a length are zero; final y is the last valid one.

Parameters, inputs and weights are drawn from torch.manual_seed(SEED) and rounded to 4 decimals so
the files stay small; they are stored, so the Swift test never depends on torch's random streams.
Everything is float64.

Usage (from the repository root):  /work/venv/bin/python Scripts/make_cell_fixtures.py
"""

import json
import os

import torch

SEED = 20240612
GENERATOR = "Scripts/make_cell_fixtures.py"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "cells")

torch.manual_seed(SEED)


def rounded(t):
    return t.mul(10_000).round().div(10_000)


def randn(*shape):
    return rounded(torch.randn(shape, dtype=torch.float64))


def uniform(shape, bound):
    return rounded((torch.rand(shape, dtype=torch.float64) * 2 - 1) * bound)


def tensor_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def grads_json(named):
    return {k: tensor_json(v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in named.items()}


# MARK: cells


def gru_reset_before_step(x, h, p, hidden):
    """The original paper's GRU step, written with torch ops (no torch.nn equivalent)."""
    H = hidden
    gi = x @ p["weight_ih"].T + (p["bias_ih"] if "bias_ih" in p else 0)
    w_hh = p["weight_hh"]
    b_hh = p.get("bias_hh")
    rz = h @ w_hh[: 2 * H].T + (b_hh[: 2 * H] if b_hh is not None else 0)
    r = torch.sigmoid(gi[:, :H] + rz[:, :H])
    z = torch.sigmoid(gi[:, H : 2 * H] + rz[:, H:])
    n = torch.tanh(gi[:, 2 * H :] + (r * h) @ w_hh[2 * H :].T + (b_hh[2 * H :] if b_hh is not None else 0))
    return (1 - z) * n + z * h


def cell_case(name, kind, input_size, hidden, batch, steps, bias=True, state=True, nonlinearity="tanh", reset_after=True):
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    bound = hidden ** -0.5
    params = {
        "weight_ih": uniform((gates * hidden, input_size), bound),
        "weight_hh": uniform((gates * hidden, hidden), bound),
    }
    if bias:
        params["bias_ih"] = uniform((gates * hidden,), bound)
        params["bias_hh"] = uniform((gates * hidden,), bound)
    inputs = {"x": randn(steps, batch, input_size)}
    if state:
        inputs["h0"] = randn(batch, hidden)
        if kind == "lstm":
            inputs["c0"] = randn(batch, hidden)

    leaves = {k: v.clone().requires_grad_(True) for k, v in {**inputs, **params}.items()}
    p = {k: leaves[k] for k in params}
    if kind == "rnn":
        cell = torch.nn.RNNCell(input_size, hidden, bias=bias, nonlinearity=nonlinearity, dtype=torch.float64)
    elif kind == "lstm":
        cell = torch.nn.LSTMCell(input_size, hidden, bias=bias, dtype=torch.float64)
    else:
        cell = torch.nn.GRUCell(input_size, hidden, bias=bias, dtype=torch.float64)
    # Run the torch.nn cell functionally on our leaves, so gradients land on them.
    def step(x, s):
        if kind == "gru" and not reset_after:
            return gru_reset_before_step(x, s if s is not None else torch.zeros(batch, hidden, dtype=torch.float64), p, hidden)
        return torch.func.functional_call(cell, p, (x, s))

    h = leaves.get("h0")
    c = leaves.get("c0")
    hs, cs = [], []
    for t in range(steps):
        x = leaves["x"][t]
        if kind == "lstm":
            h, c = step(x, (h, c) if h is not None else None)
            hs.append(h)
            cs.append(c)
        else:
            h = step(x, h)
            hs.append(h)
    outputs = {"h": torch.stack(hs)}
    if kind == "lstm":
        outputs["c"] = torch.stack(cs)
    weights = {k: randn(*v.shape) for k, v in outputs.items()}
    sum((outputs[k] * weights[k]).sum() for k in outputs).backward()
    return {
        "name": name,
        "config": {"inputSize": input_size, "hiddenSize": hidden, "bias": bias, "nonlinearity": nonlinearity,
                   "resetAfter": reset_after},
        "parameters": {k: tensor_json(v) for k, v in params.items()},
        "inputs": {k: tensor_json(v) for k, v in inputs.items()},
        "outputs": {k: tensor_json(v) for k, v in outputs.items()},
        "weights": {k: tensor_json(v) for k, v in weights.items()},
        "grads": grads_json(leaves),
    }


# MARK: Jordan


ACT = {"tanh": torch.tanh, "relu": torch.relu}
OUT_ACT = {"identity": lambda v: v, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def jordan_reference(x, y0, lengths, p, cfg):
    """x (T, B, I) time-major; y0 (L*D, B, O) or None. Returns output (T, B, D*O), final (L*D, B, O)."""
    T, B, _ = x.shape
    L, D, O = cfg["numLayers"], 2 if cfg["bidirectional"] else 1, cfg["outputSize"]
    act, out_act = ACT[cfg["activation"]], OUT_ACT[cfg["outputActivation"]]
    zero_y = torch.zeros(O, dtype=torch.float64)
    outputs, finals = [], [[None] * B for _ in range(L * D)]
    for b in range(B):
        n = lengths[b]
        seq = [x[t, b] for t in range(n)]                  # this sequence's valid steps
        for k in range(L):
            per_direction = []
            for d in range(D):
                sfx = f"_l{k}" + ("_reverse" if d == 1 else "")
                w_ih, w_yh, w_ho = p["weight_ih" + sfx], p["weight_yh" + sfx], p["weight_ho" + sfx]
                b_ih, b_ho = p.get("bias_ih" + sfx), p.get("bias_ho" + sfx)
                y = y0[k * D + d, b] if y0 is not None else zero_y
                ys = [None] * n
                order = range(n - 1, -1, -1) if d == 1 else range(n)
                for t in order:
                    pre = w_ih @ seq[t] + w_yh @ y + (b_ih if b_ih is not None else 0)
                    h = act(pre)
                    y = out_act(w_ho @ h + (b_ho if b_ho is not None else 0))
                    ys[t] = y
                finals[k * D + d][b] = y
                per_direction.append(ys)
            seq = [torch.cat([per_direction[d][t] for d in range(D)]) for t in range(n)]
        pad = torch.zeros(D * O, dtype=torch.float64)
        outputs.append(torch.stack(seq + [pad] * (T - n)) if T > 0 else torch.zeros(0, D * O, dtype=torch.float64))
    output = torch.stack(outputs, dim=1)                    # (T, B, D*O)
    final = torch.stack([torch.stack(finals[i]) for i in range(L * D)])
    return output, final


def jordan_case(name, input_size, hidden, output_size, batch, steps, num_layers=1, bidirectional=False, bias=True,
                batch_first=False, lengths=None, y0=False, activation="tanh", output_activation="tanh"):
    cfg = {"inputSize": input_size, "hiddenSize": hidden, "outputSize": output_size, "numLayers": num_layers,
           "bidirectional": bidirectional, "bias": bias, "batchFirst": batch_first, "activation": activation,
           "outputActivation": output_activation}
    D = 2 if bidirectional else 1
    bound = hidden ** -0.5
    params = {}
    for k in range(num_layers):
        in_k = input_size if k == 0 else D * output_size
        for d in range(D):
            sfx = f"_l{k}" + ("_reverse" if d == 1 else "")
            params["weight_ih" + sfx] = uniform((hidden, in_k), bound)
            params["weight_yh" + sfx] = uniform((hidden, output_size), bound)
            params["weight_ho" + sfx] = uniform((output_size, hidden), bound)
            if bias:
                params["bias_ih" + sfx] = uniform((hidden,), bound)
                params["bias_ho" + sfx] = uniform((output_size,), bound)
    inputs = {"input": randn(batch, steps, input_size) if batch_first else randn(steps, batch, input_size)}
    if y0:
        inputs["initialY"] = randn(num_layers * D, batch, output_size)
    leaves = {k: v.clone().requires_grad_(True) for k, v in {**inputs, **params}.items()}
    x = leaves["input"].transpose(0, 1) if batch_first else leaves["input"]
    lens = lengths if lengths is not None else [steps] * batch
    output, final = jordan_reference(x, leaves.get("initialY"), lens, leaves, cfg)
    if batch_first:
        output = output.transpose(0, 1)
    outputs = {"output": output, "finalY": final}
    weights = {k: randn(*v.shape) for k, v in outputs.items()}
    sum((outputs[k] * weights[k]).sum() for k in outputs).backward()
    if lengths is not None:
        cfg["lengths"] = lengths
    return {
        "name": name,
        "config": cfg,
        "parameters": {k: tensor_json(v) for k, v in params.items()},
        "inputs": {k: tensor_json(v) for k, v in inputs.items()},
        "outputs": {k: tensor_json(v) for k, v in outputs.items()},
        "weights": {k: tensor_json(v) for k, v in weights.items()},
        "grads": grads_json(leaves),
    }


def write(name, cases):
    doc = {"generator": GENERATOR, "torch": torch.__version__, "seed": SEED, "cases": cases}
    path = os.path.normpath(os.path.join(OUT_DIR, f"{name}.json"))
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    write("rnn_cell", [
        cell_case("tanh", "rnn", 3, 4, 2, 3),
        cell_case("relu", "rnn", 3, 4, 2, 3, nonlinearity="relu"),
        cell_case("tanh, no bias, no state", "rnn", 3, 4, 2, 2, bias=False, state=False),
        cell_case("relu, no state", "rnn", 2, 3, 3, 2, state=False, nonlinearity="relu"),
    ])
    write("lstm_cell", [
        cell_case("state", "lstm", 3, 4, 2, 3),
        cell_case("no bias, no state", "lstm", 3, 4, 2, 2, bias=False, state=False),
        cell_case("one step", "lstm", 5, 3, 1, 1),
    ])
    write("gru_cell", [
        cell_case("resetAfter", "gru", 3, 4, 2, 3),
        cell_case("resetAfter, no bias, no state", "gru", 3, 4, 2, 2, bias=False, state=False),
        cell_case("resetBefore", "gru", 3, 4, 2, 3, reset_after=False),
        cell_case("resetBefore, no bias, no state", "gru", 3, 4, 2, 2, bias=False, state=False, reset_after=False),
        cell_case("resetBefore, no state", "gru", 2, 3, 3, 2, state=False, reset_after=False),
    ])
    write("jordan", [
        jordan_case("one layer", 3, 4, 2, 2, 4),
        jordan_case("2 layers, lengths, y0, relu/sigmoid", 3, 5, 2, 3, 4, num_layers=2, lengths=[4, 2, 3], y0=True,
                    activation="relu", output_activation="sigmoid"),
        jordan_case("bidirectional, 2 layers, lengths, y0, batchFirst", 2, 4, 3, 3, 5, num_layers=2, bidirectional=True,
                    lengths=[5, 1, 3], y0=True, batch_first=True, output_activation="identity"),
        jordan_case("no bias, identity output", 3, 4, 2, 2, 3, bias=False, output_activation="identity"),
        jordan_case("bidirectional, zero length", 2, 3, 2, 2, 3, bidirectional=True, lengths=[3, 0]),
    ])


if __name__ == "__main__":
    main()
