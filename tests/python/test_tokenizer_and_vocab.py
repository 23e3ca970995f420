"""The CLIP tokenizer of weights/, --vocab embedding and the descriptor
cross-check against a checkpoint's stored prompt embeddings."""

import json
from collections import OrderedDict

import numpy as np
import pytest

from helpers import FIXTURES, MANIFEST, TOKENIZER_CASES, VOCAB, fixture, run_cli
from bpe_tokenizer import Tokenizer, pre_tokenize
from ckpt_reader import load_checkpoint
from class_list import RAER_CLASSES
from convert import convert
from errors import ConvertError
from pth_writer import write_pth
from st_format import read_safetensors

needs_shared = pytest.mark.skipif(not (VOCAB.exists() and TOKENIZER_CASES.exists()),
                                  reason="../shared (CLIP vocabulary, tokenizer cases) not present")


@pytest.fixture(scope="module")
def cases():
    with open(TOKENIZER_CASES) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer(str(VOCAB))


@needs_shared
def test_matches_reference_tokenizer(cases, tokenizer):
    for case in cases:
        assert tokenizer.tokenize(case["text"], 77, truncate=True) == case["ids"], case["text"]


@needs_shared
def test_default_descriptors_are_the_official_strings(cases):
    assert [c["descriptor"] for c in RAER_CLASSES] == [case["text"] for case in cases[:5]]
    assert [c["name"] for c in RAER_CLASSES] == ["Neutrality", "Enjoyment", "Confusion", "Fatigue", "Distraction"]


def test_pre_tokenizer_pattern():
    assert pre_tokenize("it's 2nd-year!!! <|endoftext|>x") == ["it", "'s", "2", "nd", "-", "year", "!!!", "<|endoftext|>", "x"]
    assert pre_tokenize("a'b ''s") == ["a", "'", "b", "''", "s"]


def raer_checkpoint(tmp_path, cases, order=range(5)):
    """A CLIP-CAER checkpoint with CLIP's real vocabulary size, whose stored
    prompts are the reference token ids of RAER's descriptors (classes in `order`)."""
    sd = load_checkpoint(str(fixture("caer_a", "checkpoint")))["state_dict"]
    rng = np.random.default_rng(5)
    width, n_ctx, length = 64, 2, 77
    emb = rng.standard_normal((49408, width)).astype(np.float32) * 0.02
    prompts = np.zeros((5, length), np.int64)
    for row, c in enumerate(order):  # "X X descriptor": SOT, 'x' (343) twice, the descriptor's ids, EOT
        seq = [49406] + [343] * n_ctx + [i for i in cases[c]["ids"][1:] if i]
        prompts[row, :len(seq)] = seq
    sd = OrderedDict((k, v) for k, v in sd.items() if not k.startswith("text_encoder."))
    sd["clip_model_.token_embedding.weight"] = emb
    sd["clip_model_.positional_embedding"] = rng.standard_normal((length, width)).astype(np.float32) * 0.01
    sd["prompt_learner.ctx"] = rng.standard_normal((5, n_ctx, width)).astype(np.float32) * 0.02
    sd["prompt_learner.token_prefix"] = emb[prompts[:, :1]]
    sd["prompt_learner.token_suffix"] = emb[prompts[:, 1 + n_ctx:]]
    path = tmp_path / "raer.pth"
    write_pth(path, {"epoch": 1, "state_dict": sd})
    return path, [1 + n_ctx + sum(1 for i in cases[c]["ids"][1:] if i) - 1 for c in order]


@needs_shared
def test_vocab_is_embedded_and_descriptors_checked(tmp_path, cases):
    path, eot = raer_checkpoint(tmp_path, cases)
    out = tmp_path / "o.safetensors"
    code, stdout, err = run_cli(path, "-o", out, "--vocab", VOCAB)
    assert code == 0, err
    tensors, meta, header = read_safetensors(str(out))
    assert header["tokenizer.bpe_vocab_gz"]["dtype"] == "U8"
    assert tensors["tokenizer.bpe_vocab_gz"].tobytes() == VOCAB.read_bytes()
    config = json.loads(meta["config"])
    assert config["eot_positions"] == eot == [27, 26, 30, 30, 31]
    assert config["text"]["vocab_size"] == 49408 and config["text"]["context_length"] == 77
    assert json.loads(meta["classes"]) == RAER_CLASSES


@needs_shared
def test_descriptors_in_the_wrong_order_are_refused(tmp_path, cases):
    path, _ = raer_checkpoint(tmp_path, cases, order=[0, 1, 3, 2, 4])
    with pytest.raises(ConvertError, match=r"raer\.pth: class 2 \(Confusion\): descriptor 'Furrowed eyebrows.*"
                                           r"does not match the checkpoint's prompt \(token 3 differs\)"):
        convert(str(path), str(tmp_path / "o.safetensors"), vocab_path=str(VOCAB))
    # Without the vocabulary there is nothing to check the text against.
    convert(str(path), str(tmp_path / "o.safetensors"))


@needs_shared
def test_small_vocabulary_skips_the_check_with_a_warning(tmp_path, capsys):
    out = tmp_path / "o.safetensors"
    convert(str(fixture("caer_a", "checkpoint")), str(out), str(FIXTURES / MANIFEST["caer_a"]["classes"]),
            vocab_path=str(VOCAB), warn=lambda m: print(m))
    assert "vocabulary of 32 tokens" in capsys.readouterr().out
    assert read_safetensors(str(out))[0]["tokenizer.bpe_vocab_gz"].size == VOCAB.stat().st_size


@pytest.mark.parametrize("content, message", [(b"not gzip", "not a gzip file"),
                                              (None, "not a CLIP BPE merges file")])
def test_bad_vocab_file(tmp_path, content, message):
    import gzip
    path = tmp_path / "vocab.gz"
    path.write_bytes(content if content is not None else gzip.compress(b"hello\nworld"))
    code, _, err = run_cli(fixture("caer_a", "checkpoint"), "-o", tmp_path / "o.safetensors", "--vocab", path)
    assert code == 1 and "Traceback" not in err and f"vocab.gz: {message}" in err
