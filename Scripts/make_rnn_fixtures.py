#!/usr/bin/env python3
"""PyTorch reference values for the recurrent layers (Tests/Fixtures/rnn/*.safetensors).

Each file holds the module's state_dict under PyTorch's names, the input, initial states, outputs,
final states and the gradients of
    loss = sum(output * w_out) + sum(h_n * w_h) + sum(c_n * w_c)
with respect to the input, the initial states and every parameter (prefixed `grad.`).
Variable lengths go through pack_padded_sequence(enforce_sorted=False), the reference for
Recurrent's unsorted `lengths`. Run:  python Scripts/make_rnn_fixtures.py  (torch, safetensors).
"""
import json
import os
import zlib

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "rnn")
T, B, I, H = 5, 3, 4, 6

CONFIGS = [
    dict(name="rnn_tanh", cell="rnn", nonlinearity="tanh"),
    dict(name="rnn_relu_2layers", cell="rnn", nonlinearity="relu", layers=2),
    dict(name="rnn_tanh_bidir_h0", cell="rnn", bidirectional=True, initial=True),
    dict(name="lstm", cell="lstm"),
    dict(name="lstm_3layers_h0", cell="lstm", layers=3, initial=True),
    dict(name="lstm_bidir_2layers", cell="lstm", layers=2, bidirectional=True),
    dict(name="lstm_proj", cell="lstm", proj=3, initial=True),
    dict(name="lstm_proj_bidir_2layers", cell="lstm", proj=4, layers=2, bidirectional=True),
    dict(name="lstm_nobias_batchfirst", cell="lstm", bias=False, batch_first=True),
    dict(name="lstm_lengths", cell="lstm", lengths=[3, 5, 1]),
    dict(name="lstm_bidir_lengths_h0", cell="lstm", bidirectional=True, initial=True, lengths=[2, 5, 4]),
    dict(name="lstm_2layers_bidir_lengths_batchfirst", cell="lstm", layers=2, bidirectional=True, lengths=[5, 1, 3], batch_first=True),
    dict(name="gru", cell="gru"),
    dict(name="gru_2layers_bidir_h0", cell="gru", layers=2, bidirectional=True, initial=True),
    dict(name="gru_nobias", cell="gru", bias=False),
    dict(name="gru_lengths_bidir", cell="gru", bidirectional=True, lengths=[4, 2, 5]),
    dict(name="rnn_relu_lengths_3layers", cell="rnn", nonlinearity="relu", layers=3, lengths=[1, 5, 2]),
]


def make(cfg):
    torch.manual_seed(zlib.crc32(cfg["name"].encode()))
    layers, bidir = cfg.get("layers", 1), cfg.get("bidirectional", False)
    bias, batch_first, proj = cfg.get("bias", True), cfg.get("batch_first", False), cfg.get("proj", 0)
    kw = dict(input_size=I, hidden_size=H, num_layers=layers, bias=bias, batch_first=batch_first, bidirectional=bidir)
    if cfg["cell"] == "rnn":
        m = torch.nn.RNN(nonlinearity=cfg.get("nonlinearity", "tanh"), **kw)
    elif cfg["cell"] == "lstm":
        m = torch.nn.LSTM(proj_size=proj, **kw)
    else:
        m = torch.nn.GRU(**kw)
    m = m.float()
    D = 2 if bidir else 1
    P = proj if proj else H
    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)
    x.requires_grad_(True)
    tensors = {k: v.detach().clone().contiguous() for k, v in m.state_dict().items()}
    h0 = torch.randn(D * layers, B, P) * 0.5
    c0 = torch.randn(D * layers, B, H) * 0.5
    h0.requires_grad_(True)
    c0.requires_grad_(True)
    state = None
    if cfg.get("initial"):
        state = (h0, c0) if cfg["cell"] == "lstm" else h0
    lengths = cfg.get("lengths")
    if lengths:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        out_packed, final = m(packed, state)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=batch_first, total_length=T)
    else:
        out, final = m(x, state)
    h_n, c_n = (final if cfg["cell"] == "lstm" else (final, None))
    w_out, w_h = torch.randn_like(out), torch.randn_like(h_n)
    loss = (out * w_out).sum() + (h_n * w_h).sum()
    if c_n is not None:
        w_c = torch.randn_like(c_n)
        loss = loss + (c_n * w_c).sum()
        tensors.update({"c_n": c_n.detach(), "w_c": w_c})
    loss.backward()
    tensors.update({"input": x.detach(), "output": out.detach(), "h_n": h_n.detach(), "w_out": w_out, "w_h": w_h,
                    "grad.input": x.grad})
    if cfg.get("initial"):
        tensors.update({"h0": h0.detach(), "grad.h0": h0.grad})
        if cfg["cell"] == "lstm":
            tensors.update({"c0": c0.detach(), "grad.c0": c0.grad})
    for name, p in m.named_parameters():
        tensors["grad." + name] = p.grad
    if lengths:
        tensors["lengths"] = torch.tensor(lengths, dtype=torch.float32)
    config = {k: v for k, v in cfg.items() if k != "name"}
    metadata = {"config": json.dumps(config), "generator": "Scripts/make_rnn_fixtures.py", "torch": torch.__version__}
    save_file({k: v.detach().float().contiguous() for k, v in tensors.items()}, os.path.join(OUT, cfg["name"] + ".safetensors"), metadata)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for cfg in CONFIGS:
        make(cfg)
    print(f"wrote {len(CONFIGS)} fixtures to {os.path.normpath(OUT)}")
