#!/usr/bin/env python3
"""PyTorch anchor for `recurrent train classify-series` (issue 23): the same model, split and hyper-parameters,
printing test accuracy and time, to run beside the Swift command.

Model: per-feature standardisation fitted on the training file -> nn.LSTM (bidirectional, packed sequences for the
true lengths) -> masked mean (or max / final) pooling -> dropout -> nn.Linear. Training: Adam, cross-entropy, clip
the global gradient norm, cosine learning-rate decay per update (as --lr-schedule cosine), shuffled batches, all of
the TRAIN file (--validation-fraction 0: the last epoch is kept), scored on the TEST file.

    /work/venv/bin/python Scripts/classify_series_torch.py Examples/data/uea-ucr/JapaneseVowels --pooling final --epochs 60 --threads 2

Reads the .ts files itself (no aeon or sktime needed); needs torch and numpy.
"""
import argparse
import glob
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn


def read_ts(path):
    """(list of (T, F) float32 arrays, list of labels, the header's class list) from a UEA/UCR .ts file."""
    series, labels, classes, in_data = [], [], None, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                words = line.split()
                key = words[0].lower()
                if key == "@classlabel" and len(words) > 1 and words[1].lower() == "true":
                    classes = words[2:]
                elif key == "@data":
                    in_data = True
                continue
            fields = line.split(":")
            labels.append(fields[-1].strip())
            dims = [np.array([float(v) for v in field.split(",")], dtype=np.float32) for field in fields[:-1]]
            series.append(np.stack(dims, axis=1))      # (T, F)
    return series, labels, classes


class Classifier(nn.Module):
    def __init__(self, features, hidden, layers, classes, bidirectional, dropout, pooling):
        super().__init__()
        self.rnn = nn.LSTM(features, hidden, num_layers=layers, bidirectional=bidirectional,
                           dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), classes)
        self.pooling = pooling

    def forward(self, x, lengths):                       # x (T, B, F), lengths (B,)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, (h, _) = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])   # (T, B, D*H), zero past lengths
        if self.pooling == "mean":
            pooled = out.sum(0) / lengths.unsqueeze(1).to(out.dtype)
        elif self.pooling == "max":
            mask = torch.arange(x.shape[0]).unsqueeze(1) >= lengths.unsqueeze(0)  # (T, B)
            pooled = out.masked_fill(mask.unsqueeze(2), float("-inf")).max(0).values
        else:                                            # final: last layer, both directions
            d = 2 if self.rnn.bidirectional else 1
            pooled = h[-d:].permute(1, 0, 2).reshape(x.shape[1], -1)
        return self.head(self.dropout(pooled))


def batch(series, indices):
    lengths = torch.tensor([len(series[i]) for i in indices])
    x = torch.zeros(int(lengths.max()), len(indices), series[0].shape[1])
    for b, i in enumerate(indices):
        x[: len(series[i]), b] = torch.from_numpy(series[i])
    return x, lengths


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="a folder with NAME_TRAIN.ts and NAME_TEST.ts")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--no-bidirectional", action="store_true")
    p.add_argument("--pooling", default="mean", choices=["mean", "max", "final"])
    p.add_argument("--patch", type=int, default=1, help="read this many steps as one (the last patch repeats the final step)")
    p.add_argument("--input-noise", type=float, default=0.0, help="std of Gaussian noise on the standardised training inputs")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip-norm", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    train_path = sorted(glob.glob(os.path.join(a.folder, "*_TRAIN.ts")))[0]
    train, train_labels, classes = read_ts(train_path)
    test, test_labels, _ = read_ts(train_path.replace("_TRAIN.ts", "_TEST.ts"))
    classes = classes or sorted(set(train_labels))

    def patched(s):                                                           # (T, F) -> (ceil(T/k), k*F)
        k = a.patch
        T = -(-len(s) // k)
        padded = np.concatenate([s, np.repeat(s[-1:], T * k - len(s), axis=0)], axis=0)
        return padded.reshape(T, k * s.shape[1])
    train, test = [patched(s) for s in train], [patched(s) for s in test]
    ids = {c: i for i, c in enumerate(classes)}
    stacked = np.concatenate(train, axis=0)                                   # every step of every training sequence
    mean, std = stacked.mean(0), stacked.std(0)
    std[std <= 1e-6] = 1
    train = [(s - mean) / std for s in train]
    test = [(s - mean) / std for s in test]
    y_train = torch.tensor([ids[l] for l in train_labels])
    y_test = torch.tensor([ids[l] for l in test_labels])

    model = Classifier(train[0].shape[1], a.hidden, a.layers, len(classes), not a.no_bidirectional, a.dropout, a.pooling)
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps_per_epoch = math.ceil(len(train) / a.batch)
    total = a.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(a.epochs):
        model.train()
        order = rng.permutation(len(train))
        for k in range(0, len(order), a.batch):
            idx = order[k:k + a.batch]
            x, lengths = batch(train, idx)
            if a.input_noise > 0:                                             # noise on valid steps only
                valid = (torch.arange(x.shape[0]).unsqueeze(1) < lengths.unsqueeze(0)).unsqueeze(2)
                x = x + a.input_noise * torch.randn_like(x) * valid
            loss = loss_fn(model(x, lengths), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), a.clip_norm)
            optimizer.step()
            schedule.step()
    train_seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        x, lengths = batch(test, list(range(len(test))))
        predictions = model(x, lengths).argmax(1)
    accuracy = (predictions == y_test).float().mean().item()
    name = os.path.basename(train_path)[: -len("_TRAIN.ts")]
    print(f"{name}: torch {torch.__version__}, {a.threads} threads; {len(train)} train, {len(test)} test; "
          f"test accuracy {accuracy:.4f}; training {train_seconds:.1f} s, {time.perf_counter() - start:.1f} s in all")


if __name__ == "__main__":
    main()
