"""clipcaer.Tokenizer against the reference CLIP ids (shared/testdata and
tests/fixtures/tokenizer_more_cases.json), and its error paths."""
import gzip
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import clipcaer

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
VOCAB = SHARED / "clip" / "bpe_simple_vocab_16e6.txt.gz"
FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "tokenizer_more_cases.json").read_text(encoding="utf-8"))
CASES = FIXTURE["cases"]


def padded(ids, context_length=77):
    return ids + [0] * (context_length - len(ids))


@pytest.fixture(scope="module")
def tok():
    return clipcaer.Tokenizer(str(VOCAB))


def test_vocabulary(tok):
    assert tok.vocab_size == 49408
    assert clipcaer.Tokenizer.start_of_text == 49406
    assert clipcaer.Tokenizer.end_of_text == 49407
    assert "49408" in repr(tok)


def test_shared_reference_cases(tok):
    cases = json.loads((SHARED / "testdata" / "tokenizer_cases.json").read_text(encoding="utf-8"))
    out = tok.tokenize([c["text"] for c in cases])
    assert out.dtype == np.int32
    assert out.shape == (len(cases), 77)
    np.testing.assert_array_equal(out, np.array([c["ids"] for c in cases], dtype=np.int32))


def test_fixture_cases_exact_without_ftfy(tok):
    want = np.array([padded(c.get("ids_no_ftfy", c["ids"])) for c in CASES], dtype=np.int32)
    got = tok.tokenize([c["text"] for c in CASES])
    mismatched = [CASES[i]["text"] for i in range(len(CASES)) if not np.array_equal(got[i], want[i])]
    assert not mismatched
    assert len(CASES) >= 500


@pytest.mark.parametrize("i", range(0, len(CASES), 7))
def test_fixture_encode_decode_and_context(tok, i):
    case = CASES[i]
    assert tok.encode(case["text"]) == case["tokens"]
    assert tok.decode(case["tokens"]) == case["decoded"]
    assert tok.tokenize(case["text"], context_length=8)[0].tolist() == padded(case["ids_ctx8"], 8)
    if case["fits_77"]:
        assert tok.tokenize(case["text"], truncate=False)[0].tolist() == padded(case.get("ids_no_ftfy", case["ids"]))
    else:
        with pytest.raises(ValueError, match="more than context_length 77"):
            tok.tokenize(case["text"], truncate=False)


def test_ftfy_difference_is_what_the_fixture_says(tok):
    differing = [c for c in CASES if "ids_no_ftfy" in c]
    assert len(differing) == FIXTURE["summary"]["ftfy_changes_ids"]
    # On these, clipcaer gives the ftfy-free ids, not CLIP's.
    got = tok.tokenize([c["text"] for c in differing])
    for row, case in zip(got, differing):
        assert row.tolist() == padded(case["ids_no_ftfy"])
        assert row.tolist() != padded(case["ids"])


def test_accepts_str_list_and_tuple(tok):
    one = tok.tokenize("a photo of a confused student.")
    assert one.shape == (1, 77)
    np.testing.assert_array_equal(tok.tokenize(["a photo of a confused student."]), one)
    np.testing.assert_array_equal(tok.tokenize(("x", "y")), tok.tokenize(["x", "y"]))
    assert tok.tokenize([]).shape == (0, 77)
    assert tok.tokenize("", context_length=2).tolist() == [[49406, 49407]]


def test_from_gzip_bytes(tok):
    other = clipcaer.Tokenizer.from_gzip_bytes(VOCAB.read_bytes())
    assert other.encode("Hello, World!") == tok.encode("Hello, World!")


def test_threads_share_a_tokenizer():
    tok = clipcaer.Tokenizer(str(VOCAB))
    texts = [c["text"] for c in CASES]
    want = tok.tokenize(texts)
    fresh = clipcaer.Tokenizer(str(VOCAB))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: fresh.tokenize(texts[k::8]), range(8)))
    for k, got in enumerate(results):
        np.testing.assert_array_equal(got, want[k::8])


# --- errors --------------------------------------------------------------------

def test_missing_vocab_file():
    with pytest.raises(FileNotFoundError, match="nonexistent"):
        clipcaer.Tokenizer("/nonexistent/bpe_simple_vocab_16e6.txt.gz")


def test_corrupt_vocab_files(tmp_path):
    plain = tmp_path / "plain.txt.gz"
    plain.write_bytes(b"#version: 0.2\ni n\n")
    with pytest.raises(RuntimeError, match="not gzip data"):
        clipcaer.Tokenizer(str(plain))
    truncated = tmp_path / "truncated.txt.gz"
    truncated.write_bytes(VOCAB.read_bytes()[:5000])
    with pytest.raises(RuntimeError, match="truncated"):
        clipcaer.Tokenizer(str(truncated))
    short = tmp_path / "short.txt.gz"
    short.write_bytes(gzip.compress(b"#version: 0.2\ni n\nt h\n"))
    with pytest.raises(RuntimeError, match="has 2 merge lines"):
        clipcaer.Tokenizer(str(short))
    with pytest.raises(RuntimeError, match="not gzip data"):
        clipcaer.Tokenizer.from_gzip_bytes(b"")


def test_too_long_without_truncate(tok):
    text = "student " * 100
    with pytest.raises(ValueError, match=r"text 1 \(\"student student .*\.\.\.\"\) has 102 tokens"):
        tok.tokenize(["fine", text], truncate=False)
    row = tok.tokenize(text)[0]
    assert row[76] == 49407 and row[0] == 49406


@pytest.mark.parametrize("context_length", [-1, 0, 1])
def test_bad_context_length(tok, context_length):
    with pytest.raises(ValueError, match="context_length must be at least 2"):
        tok.tokenize("a", context_length=context_length)


def test_bad_text_types(tok):
    with pytest.raises(TypeError, match="texts must be a str or a list of str"):
        tok.tokenize(42)
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str"):
        tok.tokenize(["ok", b"bytes"])
    with pytest.raises(TypeError):
        tok.encode(None)


def test_text_without_utf8_form(tok):
    with pytest.raises(ValueError):  # UnicodeEncodeError: a lone surrogate
        tok.tokenize("bad \ud800 text")
    with pytest.raises(ValueError):
        tok.encode("\udfff")


@pytest.mark.parametrize("bad", [-1, 49408, 2**40])
def test_decode_rejects_ids_outside_vocabulary(tok, bad):
    with pytest.raises(ValueError, match=f"token id {bad} at position 1"):
        tok.decode([320, bad])
