"""Scores `recurrent predict tag --format conll` output against the gold tags of a CoNLL file with
seqeval (the default, conlleval-compatible mode), so that the F1 `recurrent eval tag` prints can be
checked against an independent implementation.

    recurrent predict tag --checkpoint runs/wnut17/best.safetensors --format conll \
        --input Examples/data/wnut17/emerging.test.annotated > /tmp/predicted.conll
    python Scripts/seqeval_check.py Examples/data/wnut17/emerging.test.annotated /tmp/predicted.conll

For SNIPS folders, pass the test folder (seq.in/seq.out) as the gold file and the output of
`predict tag --format tokens` (tags, tab, intent, tab, entities per line) as the prediction.
Tags are compared as IOB2 strings; gold files in another encoding must be converted first.
Made with seqeval 1.2.2 (pip), Python 3.
"""
import os
import sys

from seqeval.metrics import classification_report, f1_score, precision_score, recall_score


def read_conll(path, column):
    """Sentences of the given column (0: token, -1: last) of a CoNLL file; -DOCSTART- skipped."""
    sentences, current = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n").rstrip("\r")
        if not line.strip() or line.startswith("-DOCSTART-"):
            if current:
                sentences.append(current)
            current = []
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        current.append(fields[column].strip())
    if current:
        sentences.append(current)
    return sentences


def main():
    gold_path, predicted_path = sys.argv[1], sys.argv[2]
    if os.path.isdir(gold_path):
        gold = [line.split() for line in open(os.path.join(gold_path, "seq.out"), encoding="utf-8")]
        predicted = [line.rstrip("\n").split("\t")[0].split() for line in open(predicted_path, encoding="utf-8")]
    else:
        gold = read_conll(gold_path, -1)
        predicted = read_conll(predicted_path, -1)
    assert len(gold) == len(predicted), f"{len(gold)} gold sentences, {len(predicted)} predicted"
    for g, p in zip(gold, predicted):
        assert len(g) == len(p), f"sentence lengths differ: {g} / {p}"
    print(classification_report(gold, predicted, digits=4))
    print(f"seqeval precision {precision_score(gold, predicted):.4f} recall {recall_score(gold, predicted):.4f} "
          f"F1 {f1_score(gold, predicted):.4f}")


if __name__ == "__main__":
    main()
