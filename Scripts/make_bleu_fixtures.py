#!/usr/bin/env python3
"""Writes Tests/Fixtures/attention/bleu.json: corpus BLEU computed by sacrebleu (tokenize='none', the
default 'exp' smoothing, closest reference length) on already tokenized, space-separated segments,
with one or several references per segment. The Swift `BLEU.corpus` must give the same scores.

Usage (from the repository root; sacrebleu is not in the project venv, install it aside):
  pip install --target /tmp/sacrebleu_pkgs sacrebleu==2.6.0
  PYTHONPATH=/tmp/sacrebleu_pkgs /work/venv/bin/python Scripts/make_bleu_fixtures.py
"""

import json
import os

import sacrebleu

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "attention", "bleu.json")

CASES = [
    ("single reference", ["the cat sat on the mat .", "i am cold .", "he is very tall"],
     [["the cat is on the mat .", "i am cold .", "he is tall ."]]),
    ("several references", ["je suis froid .", "il est grand .", "nous sommes partis ."],
     [["j'ai froid .", "il est grand .", "nous sommes parties ."], ["je suis gelé .", "il est très grand .", "on est partis ."]]),
    ("short hypotheses (brevity penalty)", ["le chat", "je suis", "va !"],
     [["le chat est sur le tapis .", "je suis là .", "va !"]]),
    ("no 4-gram match (exp smoothing)", ["a b c d e", "f g h"], [["a b c x e", "f g y"]]),
    ("longer than the references", ["a a a a a a a a b", "c d e f g h"], [["a a b", "c d e f"]]),
    ("clipping", ["the the the the the the the"], [["the cat is on the mat"], ["there is a cat on the mat"]]),
]


def main():
    cases = []
    for name, hyps, refs in CASES:
        bleu = sacrebleu.corpus_bleu(hyps, refs, tokenize="none")
        cases.append({
            "name": name, "hypotheses": hyps, "references": [[r[i] for r in refs] for i in range(len(hyps))],
            "score": bleu.score, "precisions": bleu.precisions, "brevity_penalty": bleu.bp,
            "hypothesis_length": bleu.sys_len, "reference_length": bleu.ref_len,
        })
    doc = {"generator": "Scripts/make_bleu_fixtures.py", "sacrebleu": sacrebleu.__version__, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
