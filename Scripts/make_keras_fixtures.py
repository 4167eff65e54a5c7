#!/usr/bin/env python3
"""Keras 3 reference files and outputs for the Keras importer (Tests/Fixtures/keras).

For every case below this writes
    <name>.keras          the model as Keras saves it (zip: config.json, metadata.json, model.weights.h5)
    <name>.weights.h5     the same weights alone (model.save_weights), for the cases in SEPARATE only
    <name>.config.json    the model's config alone (model.to_json()), what `--config` takes with a .weights.h5
                          (SEPARATE only)
    <name>.safetensors    `input` (B, T, I) float32, or `ids` (B, T) token ids stored as float32, and
                          `output`, Keras's own model(input), with the script and versions in the metadata.
and malformed_int_kernel.weights.h5, lstm.weights.h5 with its kernel stored as int32 (an importer must refuse it).
Every weight is overwritten with U(-0.5, 0.5) values from a seeded generator (Keras initialises biases to
zero, which would hide a bias put in the wrong place). Run with the torch backend:
    KERAS_BACKEND=torch python Scripts/make_keras_fixtures.py      (keras 3, torch, h5py, safetensors, numpy)
"""
import json
import os
import zlib

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py
import keras
import numpy as np
import torch
from keras import layers
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "keras")
B, T, I, H = 2, 5, 3, 4
V = 7  # vocabulary of the embedding cases


def functional_chain():
    """The same kind of model written as tutorials often do: keras.Model(inputs, outputs) over a chain of layers."""
    inputs = keras.Input((T, I))
    x = layers.LSTM(H, return_sequences=True)(inputs)
    x = layers.GRU(3, reset_after=False)(x)
    return keras.Model(inputs, layers.Dense(2, activation="tanh")(x))


def case(name):
    """The model of each case (each a Sequential, as the tutorials build them)."""
    seq = dict(return_sequences=True)
    f = lambda *ls: keras.Sequential([keras.Input((T, I))] + list(ls))
    return {
        "lstm": lambda: f(layers.LSTM(H)),
        "lstm_sequences": lambda: f(layers.LSTM(H, **seq)),
        "gru_reset_after": lambda: f(layers.GRU(H, **seq)),
        "gru_reset_after_last": lambda: f(layers.GRU(H)),
        "gru_reset_before": lambda: f(layers.GRU(H, reset_after=False, **seq)),
        "gru_reset_before_last": lambda: f(layers.GRU(H, reset_after=False)),
        "simple_rnn_tanh": lambda: f(layers.SimpleRNN(H, **seq)),
        "simple_rnn_relu": lambda: f(layers.SimpleRNN(H, activation="relu")),
        "lstm_go_backwards": lambda: f(layers.LSTM(H, go_backwards=True, **seq)),
        "bidirectional_lstm_concat": lambda: f(layers.Bidirectional(layers.LSTM(H, **seq))),
        "bidirectional_lstm_concat_last": lambda: f(layers.Bidirectional(layers.LSTM(H))),
        "bidirectional_gru_sum": lambda: f(layers.Bidirectional(layers.GRU(H, **seq), merge_mode="sum")),
        "bidirectional_gru_reset_before_ave": lambda: f(layers.Bidirectional(layers.GRU(H, reset_after=False), merge_mode="ave")),
        "bidirectional_rnn_mul": lambda: f(layers.Bidirectional(layers.SimpleRNN(H, activation="relu", **seq), merge_mode="mul")),
        "stacked_lstm_dense": lambda: f(layers.LSTM(H, **seq), layers.LSTM(3), layers.Dense(2)),
        "stacked_embedding": lambda: keras.Sequential([
            keras.Input((T,), dtype="int32"), layers.Embedding(V, I), layers.LSTM(H, **seq),
            layers.Bidirectional(layers.GRU(3, reset_after=False)), layers.Dense(3, activation="softmax")]),
        "functional_chain": functional_chain,
    }[name]


NAMES = ["lstm", "lstm_sequences", "gru_reset_after", "gru_reset_after_last", "gru_reset_before", "gru_reset_before_last",
         "simple_rnn_tanh", "simple_rnn_relu", "lstm_go_backwards", "bidirectional_lstm_concat",
         "bidirectional_lstm_concat_last", "bidirectional_gru_sum", "bidirectional_gru_reset_before_ave",
         "bidirectional_rnn_mul", "stacked_lstm_dense", "stacked_embedding", "functional_chain"]


# The cases also written as a separate .weights.h5 and config (the .keras files hold the same bytes).
SEPARATE = {"lstm", "bidirectional_gru_sum", "stacked_embedding", "functional_chain"}


def main():
    os.makedirs(OUT, exist_ok=True)
    versions = {"generator": "Scripts/make_keras_fixtures.py", "keras": keras.__version__, "backend": keras.backend.backend(),
                "torch": torch.__version__, "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version, "numpy": np.__version__}
    for name in NAMES:
        keras.utils.set_random_seed(zlib.crc32(name.encode()))
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        model = case(name)()
        model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
        if name == "stacked_embedding":
            x = rng.integers(0, V, (B, T)).astype(np.int32)
            inputs = {"ids": x.astype(np.float32)}
        else:
            x = rng.uniform(-1, 1, (B, T, I)).astype(np.float32)
            inputs = {"input": x}
        y = keras.ops.convert_to_numpy(model(x)).astype(np.float32)
        base = os.path.join(OUT, name)
        model.save(base + ".keras")
        if name in SEPARATE:
            model.save_weights(base + ".weights.h5")
            with open(base + ".config.json", "w") as fh:
                fh.write(model.to_json())
        save_file({**inputs, "output": np.ascontiguousarray(y)}, base + ".safetensors", {**versions, "case": name})
        print(f"{name}: output {y.shape}")
    # A weights file whose kernel is not floating point.
    with h5py.File(os.path.join(OUT, "lstm.weights.h5"), "r") as source, \
            h5py.File(os.path.join(OUT, "malformed_int_kernel.weights.h5"), "w") as target:
        source.copy(source["layers"], target, "layers")
        kernel = target["layers/lstm/cell/vars/0"][...]
        del target["layers/lstm/cell/vars/0"]
        target["layers/lstm/cell/vars/0"] = (kernel * 100).astype(np.int32)


if __name__ == "__main__":
    main()
