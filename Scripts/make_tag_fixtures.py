"""Writes Tests/Fixtures/tag/random_chunks.txt: 400 random sentences in conlleval's input format
(token gold guessed), mixing BIO tags with I- without B-, hyphenated types, IOBES E- tags and a bare tag,
so that the Swift ChunkScore can be checked against conlleval.pl itself.

The expected counts in Tests/RecurrentDataTests/TaggingDataTests.swift come from
    perl conlleval.pl < Tests/Fixtures/tag/random_chunks.txt
(conlleval.pl version 2004-01-26, the CoNLL shared tasks' script): 2050 tokens with 1326 phrases;
found: 1314 phrases; correct: 768; 1349 correct tags.
"""
import random

random.seed(17)
tags = ["O", "O", "O", "B-A", "I-A", "B-B", "I-B", "B-x-y", "I-x-y", "I-A", "E-A", "S"]
lines = []
for _ in range(400):
    n = random.randint(1, 9)
    gold = [random.choice(tags) for _ in range(n)]
    guess = [g if random.random() < 0.6 else random.choice(tags) for g in gold]
    lines += [f"w{i} {g} {p}" for i, (g, p) in enumerate(zip(gold, guess))]
    lines.append("")
open("Tests/Fixtures/tag/random_chunks.txt", "w").write("\n".join(lines))
