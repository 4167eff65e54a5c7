#!/usr/bin/env python3
"""pytorch-crf reference values for LinearChainCRF (Tests/Fixtures/crf/crf.json).

For several (T, B, K) shapes with ragged prefix masks (time-major emissions, `batch_first=False`, as the
Swift CRF), records a seeded `torchcrf.CRF`'s parameters, its log-likelihood under every reduction, the
gradients of Σ w ⊙ llh with respect to the emissions and the three parameters, and `decode`'s paths.
Float64 throughout. Run:  /work/venv/bin/python Scripts/make_crf_fixtures.py  (needs torch, pytorch-crf).
"""
import json
import os
from importlib.metadata import version

import torch
from torchcrf import CRF

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "crf")
torch.set_default_dtype(torch.float64)


def grad(p):
    """A parameter's gradient; zeros where it took no part (transitions when T = 1)."""
    return p.grad if p.grad is not None else torch.zeros_like(p)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(T, B, K, lengths, scale):
    crf = CRF(K)  # batch_first=False: emissions (T, B, K)
    emissions = torch.randn(T, B, K) * scale
    tags = torch.randint(0, K, (T, B))
    mask = torch.zeros(T, B, dtype=torch.bool)
    for b, n in enumerate(lengths):
        mask[:n, b] = True
    result = {
        "shape": [T, B, K], "lengths": lengths, "emissions": flat(emissions), "tags": tags.reshape(-1).tolist(),
        "start_transitions": flat(crf.start_transitions), "end_transitions": flat(crf.end_transitions),
        "transitions": flat(crf.transitions), "decode": crf.decode(emissions, mask), "reductions": {},
    }
    for reduction in ("none", "sum", "mean", "token_mean"):
        crf.zero_grad()
        x = emissions.clone().requires_grad_(True)
        llh = crf(x, tags, mask, reduction=reduction)
        w = torch.linspace(0.5, 1.5, llh.numel()).reshape(llh.shape)
        (llh * w).sum().backward()
        result["reductions"][reduction] = {
            "log_likelihood": flat(llh), "weight": flat(w), "grad_emissions": flat(x.grad),
            "grad_start_transitions": flat(grad(crf.start_transitions)), "grad_end_transitions": flat(grad(crf.end_transitions)),
            "grad_transitions": flat(grad(crf.transitions)),
        }
    return result


def main():
    torch.manual_seed(20)
    cases = [
        case(1, 1, 2, [1], 1.0),
        case(3, 2, 4, [3, 1], 1.0),
        case(6, 4, 5, [6, 2, 5, 1], 2.0),
        case(10, 5, 9, [7, 10, 3, 1, 9], 3.0),
        case(5, 3, 3, [4, 3, 2], 0.5),   # no sequence spans all T steps
    ]
    payload = {"cases": cases, "generator": "Scripts/make_crf_fixtures.py",
               "torch": torch.__version__, "pytorch-crf": version("pytorch-crf")}
    with open(os.path.join(OUT, "crf.json"), "w") as f:
        json.dump(payload, f, indent=1)


if __name__ == "__main__":
    main()
