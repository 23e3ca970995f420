"""CLIP's byte-level BPE tokenizer, for checking prompts against a checkpoint.

Same text cleaning as CLIP (html.unescape twice, whitespace collapsed,
lower-cased) except ftfy's mojibake repair, which is a no-op on ordinary text.
The pre-tokenizer follows CLIP's pattern
`<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^\\s\\p{L}\\p{N}]+`
using Python's unicodedata categories.
"""

import functools
import gzip
import html
import re
import unicodedata

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def _byte_to_unicode():
    # Printable bytes map to themselves, the rest to code points from 256 up;
    # the dict order (printable first) is the order of the first 256 ids.
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table = {b: chr(b) for b in printable}
    rest = [b for b in range(256) if b not in table]
    table.update((b, chr(256 + k)) for k, b in enumerate(rest))
    return table


def _kind(ch):
    if ch.isspace():
        return "s"
    cat = unicodedata.category(ch)
    return cat[0] if cat[0] in "LN" else "o"


def pre_tokenize(text):
    """Splits cleaned, lower-cased text the way CLIP's regex does."""
    out, i, n = [], 0, len(text)
    while i < n:
        for special in (SOT, EOT):
            if text.startswith(special, i):
                out.append(special)
                i += len(special)
                break
        else:
            contraction = next((c for c in _CONTRACTIONS if text.startswith(c, i)), None)
            kind = _kind(text[i])
            if contraction:
                out.append(contraction)
                i += len(contraction)
            elif kind == "s":
                i += 1
            elif kind == "N":
                out.append(text[i])
                i += 1
            else:
                j = i + 1
                while j < n and _kind(text[j]) == kind:
                    j += 1
                out.append(text[i:j])
                i = j
    return out


def clean(text):
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip().lower()


class Tokenizer:
    def __init__(self, vocab_gz_path):
        with gzip.open(vocab_gz_path, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(line.split()) for line in lines[1:49152 - 256 - 2 + 1]]
        self.byte_encoder = _byte_to_unicode()
        symbols = list(self.byte_encoder.values())
        symbols += [s + "</w>" for s in symbols]
        symbols += ["".join(m) for m in merges]
        symbols += [SOT, EOT]
        self.encoder = {s: i for i, s in enumerate(symbols)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.sot = self.encoder[SOT]
        self.eot = self.encoder[EOT]

    @property
    def vocab_size(self):
        return len(self.encoder)

    @functools.lru_cache(maxsize=4096)
    def _bpe(self, token):
        if token in (SOT, EOT):
            return (token,)
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[k], word[k + 1]) for k in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, k = [], 0
            while k < len(word):
                if k < len(word) - 1 and (word[k], word[k + 1]) == best:
                    merged.append(word[k] + word[k + 1])
                    k += 2
                else:
                    merged.append(word[k])
                    k += 1
            word = merged
        return tuple(word)

    def encode(self, text):
        """Token ids of `text`, without SOT/EOT."""
        ids = []
        for piece in pre_tokenize(clean(text)):
            if piece in (SOT, EOT):
                ids.append(self.encoder[piece])
                continue
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(mapped))
        return ids

    def tokenize(self, text, context_length=77, truncate=True):
        """[SOT] + ids + [EOT], zero padded to context_length (CLIP's clip.tokenize)."""
        ids = [self.sot] + self.encode(text) + [self.eot]
        if len(ids) > context_length:
            if not truncate:
                raise ValueError(f"text is longer than {context_length} tokens: {text!r:.60}")
            ids = ids[:context_length]
            ids[-1] = self.eot
        return ids + [0] * (context_length - len(ids))
