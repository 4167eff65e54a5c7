#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures for attention and the encoder-decoder:
Tests/Fixtures/attention/{attention,decoder_step,seq2seq_loss}.json.

The reference modules below are written with torch.nn layers and torch ops and carry exactly the
Swift modules' attribute names, so their state_dict() keys are the Swift parameter names.

attention.json      one attention read per kind (bahdanau, luong-dot, luong-general, luong-concat) over
                    a padded batch of keys: context and weights, and the gradients of
                    L = sum(context * w_context) + sum(weights * w_weights) for the query, the keys and
                    every parameter. Padded key positions are masked with -inf before the softmax.
decoder_step.json   one decoder step with attention (each kind, LSTM and GRU cells, 2 layers) from a
                    given state: logits, next h (and c), attention weights, and gradients of a weighted sum.
seq2seq_loss.json   a full teacher-forced loss (mean cross-entropy, padding ignored) of the whole model
                    (encoder over packed sequences, bridge, decoder stepping with attention) and the
                    gradient of every parameter, for several configurations.

The architecture (see Sources/RecurrentModels/Seq2Seq): encoder embedding -> nn.LSTM/GRU/RNN over the
true lengths; with two directions the outputs are summed and each layer's final states are bridged:
h = tanh(bridge([h_fwd; h_bwd])), c = bridge_c([c_fwd; c_bwd]). The decoder steps nn.*Cell layers;
Bahdanau reads the context with the previous top state and feeds [embedding; context] to the cells;
Luong reads it with the new top state (with input feeding the previous o is concatenated to the embedding,
zeros at the first step); with attention o = tanh(combine([h; context])), logits = output(o).

Parameters are drawn from torch.manual_seed(SEED) and rounded to 4 decimals; everything is float64.
Usage (from the repository root):  /work/venv/bin/python Scripts/make_attention_fixtures.py
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240905
GENERATOR = "Scripts/make_attention_fixtures.py"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "attention")
KINDS = ["bahdanau", "luong-dot", "luong-general", "luong-concat"]

torch.manual_seed(SEED)
torch.set_default_dtype(torch.float64)


def rounded(t):
    return t.mul(10_000).round().div(10_000)


def tensor_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def round_parameters(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(rounded(p))


class Attention(nn.Module):
    def __init__(self, kind, q, k, a):
        super().__init__()
        self.kind = kind
        if kind == "bahdanau":
            self.query_layer = nn.Linear(q, a)
            self.key_layer = nn.Linear(k, a)
            self.energy_layer = nn.Linear(a, 1, bias=False)
        elif kind == "luong-general":
            self.key_layer = nn.Linear(k, q, bias=False)
        elif kind == "luong-concat":
            self.weight = nn.Parameter(torch.empty(a, q + k).uniform_(-((q + k) ** -0.5), (q + k) ** -0.5))
            self.energy_layer = nn.Linear(a, 1, bias=False)
        self.q = q

    def forward(self, query, keys, lengths):
        # query (B, Q), keys (B, S, K)
        B, S, _ = keys.shape
        if self.kind == "bahdanau":
            scores = self.energy_layer(torch.tanh(self.key_layer(keys) + self.query_layer(query)[:, None, :]))[..., 0]
        elif self.kind == "luong-dot":
            scores = torch.bmm(keys, query[:, :, None])[..., 0]
        elif self.kind == "luong-general":
            scores = torch.bmm(self.key_layer(keys), query[:, :, None])[..., 0]
        else:
            wq, wk = self.weight[:, : self.q], self.weight[:, self.q :]
            scores = self.energy_layer(torch.tanh(keys @ wk.T + (query @ wq.T)[:, None, :]))[..., 0]
        pad = torch.arange(S)[None, :] >= torch.tensor(lengths)[:, None]
        weights = torch.softmax(scores.masked_fill(pad, float("-inf")), dim=-1)
        context = torch.bmm(weights[:, None, :], keys)[:, 0, :]
        return context, weights


CELLS = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}
LAYERS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class Encoder(nn.Module):
    def __init__(self, cell, vocab, emb, hidden, layers, bidirectional):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = LAYERS[cell](emb, hidden, num_layers=layers, bidirectional=bidirectional)
        self.cell, self.hidden, self.layers, self.bidirectional = cell, hidden, layers, bidirectional
        if bidirectional:
            self.bridge = nn.Linear(2 * hidden, hidden)
            if cell == "lstm":
                self.bridge_c = nn.Linear(2 * hidden, hidden)

    def forward(self, src, lengths):
        # src (S, B)
        x = self.embedding(src)
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
        out, state = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=src.shape[0])
        H = self.hidden
        h, c = (state if self.cell == "lstm" else (state, None))
        if self.bidirectional:
            out = out[:, :, :H] + out[:, :, H:]
            hs = [torch.tanh(self.bridge(torch.cat([h[2 * l], h[2 * l + 1]], 1))) for l in range(self.layers)]
            cs = [self.bridge_c(torch.cat([c[2 * l], c[2 * l + 1]], 1)) for l in range(self.layers)] if c is not None else None
        else:
            hs = [h[l] for l in range(self.layers)]
            cs = [c[l] for l in range(self.layers)] if c is not None else None
        return out.transpose(0, 1), hs, cs


class Decoder(nn.Module):
    def __init__(self, cell, vocab, emb, hidden, layers, attention, attention_size, input_feeding=False):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.cell, self.layers, self.kind, self.input_feeding = cell, layers, attention, input_feeding
        feeds = attention == "bahdanau" or input_feeding
        for l in range(layers):
            setattr(self, f"cell_l{l}", CELLS[cell](hidden if l > 0 else emb + (hidden if feeds else 0), hidden))
        if attention != "none":
            self.attention = Attention(attention, hidden, hidden, attention_size)
            self.combine = nn.Linear(2 * hidden, hidden)
        self.output = nn.Linear(hidden, vocab)

    def step(self, tokens, hs, cs, keys, lengths, feed=None):
        """feed: the previous attentional vector (B, H) with input feeding (None: zeros, the first step)."""
        x = self.embedding(tokens)
        weights = None
        if self.kind == "bahdanau":
            context, weights = self.attention(hs[-1], keys, lengths)
            x = torch.cat([x, context], 1)
        elif self.input_feeding:
            x = torch.cat([x, feed if feed is not None else torch.zeros(x.shape[0], hs[-1].shape[1], dtype=x.dtype)], 1)
        new_h, new_c = [], []
        for l in range(self.layers):
            cell = getattr(self, f"cell_l{l}")
            if self.cell == "lstm":
                h, c = cell(x, (hs[l], cs[l]))
                new_c.append(c)
            else:
                h = cell(x, hs[l])
            new_h.append(h)
            x = h
        if self.kind not in ("none", "bahdanau"):
            context, weights = self.attention(x, keys, lengths)
        if self.kind != "none":
            x = torch.tanh(self.combine(torch.cat([x, context], 1)))
        self.last_attentional = x
        return self.output(x), new_h, (new_c if self.cell == "lstm" else None), weights


class Seq2Seq(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = Encoder(cfg["cell"], cfg["sourceVocabularySize"], cfg["embeddingSize"], cfg["hiddenSize"], cfg["layers"], cfg["bidirectional"])
        self.decoder = Decoder(cfg["cell"], cfg["targetVocabularySize"], cfg["embeddingSize"], cfg["hiddenSize"], cfg["layers"],
                               cfg["attention"], cfg["attentionSize"], cfg.get("inputFeeding", False))

    def loss(self, sources, targets, bos=2, eos=3):
        B = len(sources)
        S, T = max(map(len, sources)), max(map(len, targets)) + 1
        src = torch.zeros(S, B, dtype=torch.long)
        tin = torch.zeros(T, B, dtype=torch.long)
        tout = torch.zeros(T, B, dtype=torch.long)
        for b, (s, t) in enumerate(zip(sources, targets)):
            src[: len(s), b] = torch.tensor(s)
            tin[: len(t) + 1, b] = torch.tensor([bos] + t)
            tout[: len(t) + 1, b] = torch.tensor(t + [eos])
        lengths = [len(s) for s in sources]
        keys, hs, cs = self.encoder(src, lengths)
        logits, feed = [], None
        for t in range(T):
            out, hs, cs, _ = self.decoder.step(tin[t], hs, cs, keys, lengths, feed)
            feed = self.decoder.last_attentional
            logits.append(out)
        logits = torch.stack(logits)
        return F.cross_entropy(logits.reshape(T * B, -1), tout.reshape(-1), ignore_index=0)


def grads_json(named):
    return {k: tensor_json(v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in named}


def attention_cases():
    cases = []
    B, S, Q, A = 3, 5, 4, 3
    lengths = [5, 2, 3]
    for kind in KINDS:
        att = Attention(kind, Q, Q, A)
        round_parameters(att)
        query = rounded(torch.randn(B, Q)).requires_grad_()
        keys = rounded(torch.randn(B, S, Q))
        for b, n in enumerate(lengths):
            keys[b, n:] = 0  # encoder outputs are zero past each length
        keys.requires_grad_()
        context, weights = att(query, keys, lengths)
        w_context, w_weights = rounded(torch.randn(B, Q)), rounded(torch.randn(B, S))
        ((context * w_context).sum() + (weights * w_weights).sum()).backward()
        cases.append({
            "name": kind, "config": {"kind": kind, "querySize": Q, "keySize": Q, "attentionSize": A}, "lengths": lengths,
            "parameters": {k: tensor_json(v) for k, v in att.named_parameters()},
            "inputs": {"query": tensor_json(query), "keys": tensor_json(keys)},
            "outputs": {"context": tensor_json(context), "weights": tensor_json(weights)},
            "weights": {"context": tensor_json(w_context), "weights": tensor_json(w_weights)},
            "grads": {"query": tensor_json(query.grad), "keys": tensor_json(keys.grad),
                      **grads_json(att.named_parameters())},
        })
    return cases


def decoder_step_cases():
    cases = []
    B, S, E, H, V, L, A = 2, 4, 3, 4, 7, 2, 3
    lengths = [4, 2]
    tokens = [2, 5]
    for cell, kind in [("lstm", "bahdanau"), ("gru", "luong-dot"), ("lstm", "luong-general"), ("gru", "luong-concat"), ("rnn", "bahdanau")]:
        dec = Decoder(cell, V, E, H, L, kind, A)
        round_parameters(dec)
        hs = [rounded(torch.randn(B, H)).requires_grad_() for _ in range(L)]
        cs = [rounded(torch.randn(B, H)).requires_grad_() for _ in range(L)] if cell == "lstm" else None
        keys = rounded(torch.randn(B, S, H))
        for b, n in enumerate(lengths):
            keys[b, n:] = 0
        keys.requires_grad_()
        logits, nh, nc, weights = dec.step(torch.tensor(tokens), hs, cs, keys, lengths)
        outputs = {"logits": logits, "weights": weights}
        for l in range(L):
            outputs[f"h{l}"] = nh[l]
            if nc is not None:
                outputs[f"c{l}"] = nc[l]
        w = {k: rounded(torch.randn(v.shape)) for k, v in outputs.items()}
        sum((outputs[k] * w[k]).sum() for k in outputs).backward()
        inputs = {"keys": keys}
        for l in range(L):
            inputs[f"h{l}"] = hs[l]
            if cs is not None:
                inputs[f"c{l}"] = cs[l]
        cases.append({
            "name": f"{cell}-{kind}",
            "config": {"cell": cell, "attention": kind, "vocabularySize": V, "embeddingSize": E, "hiddenSize": H, "layers": L, "attentionSize": A},
            "tokens": tokens, "lengths": lengths,
            "parameters": {k: tensor_json(v) for k, v in dec.named_parameters()},
            "inputs": {k: tensor_json(v) for k, v in inputs.items()},
            "outputs": {k: tensor_json(v) for k, v in outputs.items()},
            "weights": {k: tensor_json(v) for k, v in w.items()},
            "grads": {**{k: tensor_json(v.grad) for k, v in inputs.items()}, **grads_json(dec.named_parameters())},
        })
    return cases


def seq2seq_loss_cases():
    cases = []
    sources = [[3, 4, 5, 6, 2], [5, 1], [7, 3, 3]]
    targets = [[4, 5, 6], [7], [8, 4, 4, 5]]
    configs = [
        ("lstm", True, 1, "bahdanau"), ("gru", False, 2, "luong-general"), ("lstm", True, 2, "luong-dot"),
        ("rnn", True, 1, "luong-concat"), ("lstm", False, 1, "none"), ("gru", True, 1, "none"),
        # Luong input feeding (appended, so the random draws of the cases above are unchanged).
        ("lstm", True, 2, "luong-general+feed"), ("gru", True, 1, "luong-dot+feed"), ("rnn", False, 1, "luong-concat+feed"),
    ]
    for cell, bidirectional, layers, attention in configs:
        feeding = attention.endswith("+feed")
        attention = attention.removesuffix("+feed")
        cfg = {"sourceVocabularySize": 8, "targetVocabularySize": 9, "embeddingSize": 3, "hiddenSize": 4, "layers": layers,
               "cell": cell, "bidirectional": bidirectional, "attention": attention, "attentionSize": 3, "dropout": 0.0}
        if feeding:
            cfg["inputFeeding"] = True
        model = Seq2Seq(cfg)
        round_parameters(model)
        loss = model.loss(sources, targets)
        loss.backward()
        cases.append({
            "name": f"{cell}-{'bi' if bidirectional else 'uni'}-{layers}-{attention}{'-feed' if feeding else ''}", "config": cfg,
            "sources": sources, "targets": targets,
            "parameters": {k: tensor_json(v) for k, v in model.named_parameters()},
            "loss": loss.item(),
            "grads": grads_json(model.named_parameters()),
        })
    return cases


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, cases in [("attention", attention_cases()), ("decoder_step", decoder_step_cases()), ("seq2seq_loss", seq2seq_loss_cases())]:
        doc = {"generator": GENERATOR, "torch": torch.__version__, "seed": SEED, "cases": cases}
        with open(os.path.join(OUT_DIR, f"{name}.json"), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        print(f"wrote {name}.json ({len(cases)} cases)")


if __name__ == "__main__":
    main()
