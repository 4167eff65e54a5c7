#!/usr/bin/env python3
"""PyTorch reference values for losses, optimizers, clipping and schedules (Tests/Fixtures/optim/*.json).

Float64 throughout. Run:  python Scripts/make_optim_fixtures.py  (needs torch).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "optim")
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def write(name, payload):
    payload.update({"generator": "Scripts/make_optim_fixtures.py", "torch": torch.__version__})
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(payload, f, indent=1)


def losses():
    torch.manual_seed(1)
    cases = []
    logits = torch.randn(6, 5)
    targets = [3, 0, 4, 1, 1, 2]
    for smoothing in (0.0, 0.2):
        for reduction in ("mean", "sum", "none"):
            for ignore in (None, 1):
                x = logits.clone().requires_grad_(True)
                kw = dict(label_smoothing=smoothing, reduction=reduction)
                if ignore is not None:
                    kw["ignore_index"] = ignore
                out = F.cross_entropy(x, torch.tensor(targets), **kw)
                w = torch.linspace(0.5, 1.5, out.numel()).reshape(out.shape)
                (out * w).sum().backward()
                cases.append(dict(loss="cross_entropy", reduction=reduction, smoothing=smoothing, ignore=ignore,
                                  shape=list(x.shape), input=flat(logits), targets=targets, output=flat(out), weight=flat(w), grad=flat(x.grad)))
    a, b = torch.randn(3, 4), torch.randn(3, 4) * 2
    for name, fn in (("mse", F.mse_loss), ("l1", F.l1_loss), ("huber", lambda x, y, reduction: F.huber_loss(x, y, reduction=reduction, delta=0.7))):
        for reduction in ("mean", "sum", "none"):
            x, y = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
            out = fn(x, y, reduction=reduction)
            w = torch.linspace(0.5, 1.5, out.numel()).reshape(out.shape)
            (out * w).sum().backward()
            cases.append(dict(loss=name, reduction=reduction, shape=list(x.shape), input=flat(a), target=flat(b),
                              output=flat(out), weight=flat(w), grad=flat(x.grad), grad_target=flat(y.grad)))
    probs = torch.rand(3, 4)
    for pos_weight in (None, torch.tensor([1.0, 2.0, 0.5, 3.0])):
        for reduction in ("mean", "none"):
            x, y = (a * 3).clone().requires_grad_(True), probs.clone().requires_grad_(True)
            out = F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight, reduction=reduction)
            w = torch.linspace(0.5, 1.5, out.numel()).reshape(out.shape)
            (out * w).sum().backward()
            cases.append(dict(loss="bce_with_logits", reduction=reduction, shape=list(x.shape), input=flat(a * 3), target=flat(probs),
                              pos_weight=None if pos_weight is None else flat(pos_weight),
                              output=flat(out), weight=flat(w), grad=flat(x.grad), grad_target=flat(y.grad)))
    write("losses", {"cases": cases})


def optimizers():
    torch.manual_seed(2)
    p0 = [torch.randn(3, 4), torch.randn(4)]
    grads = [[torch.randn(3, 4), torch.randn(4)] for _ in range(5)]
    configs = [
        ("adam", lambda ps: torch.optim.Adam(ps, lr=0.01), {"lr": 0.01}),
        ("adam_wd_amsgrad", lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True),
         {"lr": 0.02, "beta1": 0.8, "beta2": 0.9, "weight_decay": 0.1, "amsgrad": True}),
        ("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.05), {"lr": 0.01, "weight_decay": 0.05}),
        ("rmsprop", lambda ps: torch.optim.RMSprop(ps, lr=0.01), {"lr": 0.01}),
        ("rmsprop_momentum_centered", lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.01),
         {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
        ("sgd_momentum", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), {"lr": 0.1, "momentum": 0.9}),
        ("sgd_nesterov_wd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
         {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        ("sgd_dampening", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5, dampening=0.3), {"lr": 0.1, "momentum": 0.5, "dampening": 0.3}),
        ("adagrad", lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
         {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ]
    cases = []
    for name, make, options in configs:
        ps = [p.clone().requires_grad_(True) for p in p0]
        opt = make(ps)
        trajectory = []
        for g in grads:
            for p, gi in zip(ps, g):
                p.grad = gi.clone()
            opt.step()
            trajectory.append([flat(p) for p in ps])
        cases.append(dict(name=name, options=options, trajectory=trajectory))
    write("optimizers", {"initial": [flat(p) for p in p0], "shapes": [list(p.shape) for p in p0],
                         "grads": [[flat(g) for g in step] for step in grads], "cases": cases})


def clipping():
    torch.manual_seed(3)
    g = [torch.randn(3, 4) * 2, torch.randn(5)]
    cases = []
    for max_norm, norm_type in ((1.0, 2.0), (100.0, 2.0), (0.5, math.inf)):
        ps = [torch.zeros_like(x).requires_grad_(True) for x in g]
        for p, x in zip(ps, g):
            p.grad = x.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        cases.append(dict(max_norm=max_norm, norm_type="inf" if norm_type == math.inf else norm_type, total=float(total),
                          clipped=[flat(p.grad) for p in ps]))
    write("clipping", {"grads": [flat(x) for x in g], "shapes": [list(x.shape) for x in g], "cases": cases})


def schedules():
    def run(make):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        values = []
        for _ in range(20):
            values.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return values
    S = torch.optim.lr_scheduler
    write("schedules", {"base": 0.1, "cases": [
        dict(name="step", step_size=3, gamma=0.5, values=run(lambda o: S.StepLR(o, 3, 0.5))),
        dict(name="exponential", gamma=0.9, values=run(lambda o: S.ExponentialLR(o, 0.9))),
        dict(name="cosine", t_max=20, eta_min=0.001, values=run(lambda o: S.CosineAnnealingLR(o, 20, 0.001))),
        dict(name="linear", start_factor=0.25, end_factor=1.0, total=8, values=run(lambda o: S.LinearLR(o, 0.25, 1.0, 8))),
    ]})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    losses(); optimizers(); clipping(); schedules()
    print("wrote", os.path.normpath(OUT))
