#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizer_more_cases.json: texts and the token ids that
OpenAI's CLIP tokenizer (simple_tokenizer.py + clip.tokenize semantics) gives
them, with and without its ftfy.fix_text step. A test-data generator only:
clipcaer never runs Python to tokenize.

Needs a package shipping OpenAI's simple_tokenizer.py as `clip` (clip-anytorch),
with ftfy and regex, e.g.
    python3 -m pip install --target /tmp/tokref ftfy regex
    python3 -m pip install --target /tmp/tokref --no-deps clip-anytorch
    PYTHONPATH=/tmp/tokref /usr/bin/python3 tests/generate_tokenizer_cases.py
"""
import importlib.util
import json
import os
import random
import sys
import types

import ftfy
import regex

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
VOCAB = os.path.join(SHARED, "clip", "bpe_simple_vocab_16e6.txt.gz")
OUT = os.path.join(ROOT, "tests", "fixtures", "tokenizer_more_cases.json")
SOT, EOT = 49406, 49407


def load_simple_tokenizer(without_ftfy):
    """A fresh copy of the `clip` package's simple_tokenizer module (its package
    __init__ is not run: it needs torchvision), optionally with ftfy disabled."""
    spec = importlib.util.find_spec("clip")
    path = os.path.join(os.path.dirname(spec.origin), "simple_tokenizer.py")
    mod_spec = importlib.util.spec_from_file_location("simple_tokenizer_copy", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    if without_ftfy:
        module.ftfy = types.SimpleNamespace(fix_text=lambda text: text)
    return module.SimpleTokenizer(VOCAB)


def clip_tokenize(tokenizer, text, context_length=77, truncate=True):
    """clip.tokenize for one text (clip.py cannot be imported without torchvision)."""
    tokens = [SOT] + tokenizer.encode(text) + [EOT]
    if len(tokens) > context_length:
        if not truncate:
            raise RuntimeError(f"Input {text} is too long for context length {context_length}")
        tokens = tokens[:context_length]
        tokens[-1] = EOT
    return tokens + [0] * (context_length - len(tokens))


def trimmed(row):
    """A row without its zero padding (a row always ends in EOT before it)."""
    end = len(row)
    while end and row[end - 1] == 0:
        end -= 1
    return row[:end]


RAER_CLASSES = ["Neutrality", "Enjoyment", "Confusion", "Fatigue", "Distraction"]
RAER_DESCRIPTORS = [  # supplement section B, with the spaces after commas
    "Relaxed mouth, open eyes, neutral eyebrows, no noticeable emotional changes, engaged with study materials, or natural body posture.",
    "Upturned mouth corners, sparkling eyes, relaxed eyebrows, focused on course content, or occasionally nodding in agreement.",
    "Furrowed eyebrows, slightly open mouth, wandering or puzzled gaze, chin rests on the palm, or eyes lock on learning material.",
    "Mouth opens in a yawn, eyelids droop, head tilts forward, eyes lock on learning material, or hand writing.",
    "Shifting eyes, restless or fidgety posture, relaxed but unfocused expression, frequently checking phone, or averted gaze from study materials.",
]
CAER_CLASSES = ["Surprise", "Sad", "Neutral", "Happy", "Fear", "Disgust", "Anger"]
CAER_DESCRIPTORS = [  # supplement section C
    "Widened eyes, an open mouth, raised eyebrows, and a frozen expression. Sudden stillness, widened eyes on the other person, hands raised or paused mid-motion.",
    "Tears, a downward-turned mouth, drooping upper eyelids, and a wrinkled forehead. Head down, avoiding eye contact, slow, withdrawn movements.",
    "Relaxed facial muscles, a straight mouth, a smooth forehead, and unremarkable eyebrows. Relaxed posture, open stance, steady, calm eye contact.",
    "A smiling mouth, raised cheeks, wrinkled eyes, and arched eyebrows. Leaning in toward the other person, quick, cheerful movements.",
    "Raised eyebrows, parted lips, a furrowed brow, and a retracted chin. Hands close to chest or tightly together, small, cautious steps backward.",
    "A wrinkled nose, lowered eyebrows, a tightened mouth, and narrow eyes. Slight step back, body angled away, hand raised or shielding face.",
    "Furrowed eyebrows, narrow eyes, tightened lips, and flared nostrils. Leaning forward, tense stance, fists clenched, or hand pointing.",
]
TEMPLATES = [  # the prompt set of bench/bench_tokenizer.cpp
    "a photo of a {} student.",
    "a photo of a student showing {}.",
    "a video frame of a {} learner in a classroom.",
    "a close-up photo of a {} face.",
    "a student who looks {}.",
    "an image of {} during a lecture.",
    "a blurry photo of a {} student.",
    "a low resolution photo of a student feeling {}.",
    "the academic emotion of {}.",
    "a classroom scene with a {} student.",
]


def cases():
    out = []

    def add(group, *texts):
        out.extend((group, t) for t in texts)

    add("caer7_descriptors", *CAER_DESCRIPTORS)
    add("caer7_descriptors", *(f"{c}: {d}" for c, d in zip(CAER_CLASSES, CAER_DESCRIPTORS)))
    add("raer5_descriptors", *RAER_DESCRIPTORS)
    add("raer5_descriptors", *("X X X X X X X X " + d for d in RAER_DESCRIPTORS))
    add("prompts", *(t.format(c.lower()) for t in TEMPLATES for c in RAER_CLASSES))
    add("prompts", *(TEMPLATES[0].format(c.lower()) for c in CAER_CLASSES))
    add("prompts", "a photo of a {} student.", "A PHOTO OF A CONFUSED STUDENT.", "a Photo Of A Student")
    add("unicode_letters",
        "Café naïve résumé façade Ångström", "Straße groß", "Ελληνικά: οδός, ΣΟΦΙΑ", "ΟΔΟΣ ΣΑΣ. Σ ΑΣ'Β ΑΣ1",
        "ΣΑΣ̈ ʰΣ Σʰ", "Привет мир, ЁЖИК и Ёлка", "İstanbul ıi İİ", "Tiếng Việt có dấu",
        "العربية الطالب", "עברית סטודנט", "हिन्दी छात्र", "ภาษาไทย นักเรียน", "ქართული", "Ǆemal ǅ ǆ",
        "ÀÉÎÕÜ àéîõü", "ĀĒĪŌŪ", "Ωmega ΩΜΕΓΑ", "Åå Øø Ææ", "ﬀ ﬃ", "Ꭰꭰ", "𐐀𐐨 Deseret", "Ⓐⓐ circled",
        "ǅungla", "ẞ capital sharp s", "ǰ ΐ ẖ", "Ⅻ ⅻ", "K Kelvin Å Angstrom", "µ micro Ω ohm")
    add("cjk",
        "学生在教室里认真学习。", "こんにちは世界", "カタカナ ひらがな 漢字", "학생이 공부한다", "中文，标点！？",
        "ＡＢＣ１２３ ｆｕｌｌｗｉｄｔｈ", "ｶﾀｶﾅ", "〔括弧〕「かぎ」", "𠀀𠀁 ext-B", "々〆〇")
    add("emoji",
        "😀", "happy 😊 student", "👍🏽 thumbs", "👨‍👩‍👧‍👦 family", "🇺🇸🇫🇷 flags", "1️⃣ keycap", "❤️ ♥ ❤",
        "🧑‍🏫 teacher 🧑‍🎓", "😂😂😂", "☺ ☹ ✌", "🏳️‍🌈", "a😀b😀c")
    add("punctuation",
        "!!!", "...", "?!?!", "---", "(a) [b] {c}", "a.b.c", "e-mail", "<b>bold</b>", "foo@bar.com",
        "http://example.com/x?y=1&z=2", "$100.00", "C++ and C#", "#hashtag @user", "back\\slash /slash",
        '"double" \'single\'', "‘curly’ “quotes”", "a—b–c", "…", "«guillemets»", "¿Qué? ¡Sí!", "*_~^`|",
        "::", ";-)", ":D", "<3", "-->", "a,b,c", "100%", "x=y+z", "§¶†‡", "·•", "©®™")
    add("numbers",
        "12345", "3.14159", "1,000,000", "2nd 3rd 4th 21st", "٣٤٥ Arabic-Indic", "½ ⅓ ¾", "Ⅻ roman", "x² y³",
        "①②③", "0x1F", "1e10", "-42", "+7", "१२३", "𝟙𝟚𝟛", "007", "10:30am", "2024-01-01")
    add("contractions",
        "it's", "don't", "we're", "I've", "I'm", "we'll", "he'd", "IT'S DON'T", "'s'", "''s", "ca'n't",
        "rock 'n' roll", "it’s", "o'clock", "'tis", "y'all", "'re 've 'm 'll 'd", "it'ſ", "'S", "he'D'S")
    add("special_tokens",
        "<|startoftext|>", "<|endoftext|>", "a<|endoftext|>b", "!<|endoftext|>", "<|STARTOFTEXT|>",
        "< |endoftext| >", "<|endoftext|><|startoftext|>", "<|ſtartoftext|>", "<|endoftext", "<|endofſ|>",
        "&lt;|endoftext|&gt;")
    add("html",
        "&amp;", "&amp;amp;", "&amp;amp;amp;", "&lt;b&gt;", "&copy; 2024", "&#39;", "it&#x27;s", "&#8217;",
        "&#128512;", "&#0;", "&#x80;", "&#x9F;", "&#xD800;", "&#1114112;", "&#99999999999999;", "&notin;",
        "&notit;", "&ampx", "&amp", "&AMP;", "a&nbsp;b", "&#65", "&#x41x", "&#;", "&#x;", "&foo;", "&;",
        "& amp;", "&Aacute;&aacute;", "&NotNestedGreaterGreater;", "&fjlig;", "&" + "a" * 40 + ";",
        "&#13;", "&#x1F;", "&#xFFFF;", "&#127;", "&#x10FFFF;", "&#X48;", "&#0065;", "&eacute", "&eacutex",
        "&lt&gt", "Tom &amp; Jerry", "&amp;lt;", "&#38;#38;", "&#38;amp;", "&ccedil;ava", "&Sigma;&Sigma;",
        "&nbsp;&nbsp;lead", "&#x3000;x", "&#9;tab", "&#10;nl", "&#12;ff")
    add("whitespace",
        "a\tb", "a\nb", "  lead", "trail  ", "a\u00a0b", "a\u3000b", "a\u2003b", "\u200bzero width", "a\x1cb",
        "\x1c lead", "a\x1fb\x1e", "a\u0085b", "a\u2028b\u2029c", "a\r\nb", "\u180e mongolian", "\ufeffbom",
        "a \t\n\u00a0\u3000 b", "\u202fnarrow", "\u205fmath", "\u1680ogham", "   ", "\t\n\r", "a\x0bb\x0cc")
    add("edge",
        "", " ", "&", "&&", "'", "<", "<|", "\x00", "a\x00b", "\x7f", "\x01\x02", "a\u0345b", "ΑΣ\u0345",
        "\u0345", "\U0010FFFF", "\uFFFE", "\u0301a", "a\u0301", "e\u0301cole", "\U000E0041 tag", "\uE000 private",
        "A", "a", "Z" * 3, "\u00ad soft hyphen", "\u2060 word joiner")
    add("mojibake",
        "Ã©", "cafÃ©", "The Mona Lisa doesnâ€™t have eyebrows.", "ﬁnancial ﬂow", "\x1b[36;44mI'm blue\x1b[0m",
        "\u2018quoted\u2019", "\u201cquote\u201d", "ＦＵＬＬ", "Ã\xa0 la carte", "â€œHelloâ€\x9d", "Ł»", "Ã¼ber",
        "l’école", "schÃ¶n", "\x80\x81 c1", "ﾀﾞ half-width", "ĳ ligature", "ǉ", "㎏ square")

    unit = "Relaxed mouth, open eyes, neutral eyebrows"
    add("long",
        "a " * 100, " ".join(RAER_DESCRIPTORS), " ".join(CAER_DESCRIPTORS), "a" * 500, "1" * 200,
        "hello" * 100, "!" * 300, "😀" * 40, "学" * 200, (unit + ", ") * 10, "word " * 74, "word " * 75,
        "word " * 76, "supercalifragilisticexpialidocious" * 20,
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
        "et dolore magna aliqua. " * 12)

    # Random texts from a pool of code points that exercise every step.
    rng = random.Random(20250817)
    pool = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            + list(" \t\n&;#'<|>!?.,-_()\"xX") + ["&amp;", "&lt;", "&#39;", "&#x27;", "&eacute", "'s", "'ll"]
            + list("éèêÉÈçñÑüÜßøÅ") + list("αβγΣσςΩΑΔ") + list("абвЖЯё") + list("学生日本語한국")
            + ["😀", "👍🏽", "👨‍👩‍👧", "🇫🇷"] + list("\u00a0\u3000\u2003\u0085\x1c\u200b\u0345\u0301\u0130\u017f")
            + list("١٢½²①Ⅻ") + list("’“”…—"))
    for _ in range(120):
        add("random_pool", "".join(rng.choice(pool) for _ in range(rng.randint(1, 40))))
    # Random code points from all planes (assigned or not, no surrogates).
    def random_cp():
        while True:
            cp = rng.choice([rng.randint(0x20, 0x7F), rng.randint(0xA0, 0x2FFF), rng.randint(0x3000, 0xFFFF),
                             rng.randint(0x10000, 0x10FFFF), rng.randint(0x10000, 0x3FFFF)])
            if not 0xD800 <= cp <= 0xDFFF:
                return chr(cp)
    for _ in range(120):
        add("random_codepoints", "".join(random_cp() for _ in range(rng.randint(1, 25))))
    # Every code point whose str.lower() differs, in chunks (lower-case table and BPE of what it makes).
    changing = "".join(chr(cp) for cp in range(0x110000)
                       if not 0xD800 <= cp <= 0xDFFF and chr(cp).lower() != chr(cp))
    for i in range(0, len(changing), 40):
        add("lowercase_all", changing[i:i + 40])
    return out


def main():
    with_ftfy = load_simple_tokenizer(without_ftfy=False)
    without_ftfy = load_simple_tokenizer(without_ftfy=True)

    # The clip_tokenize above must reproduce the shared reference ids.
    with open(os.path.join(SHARED, "testdata", "tokenizer_cases.json"), encoding="utf-8") as f:
        for case in json.load(f):
            assert clip_tokenize(with_ftfy, case["text"]) == case["ids"], case["text"]

    records = []
    ftfy_text_changed = ftfy_ids_changed = 0
    for group, text in cases():
        tokens = without_ftfy.encode(text)
        ids = trimmed(clip_tokenize(with_ftfy, text))
        ids_no_ftfy = trimmed(clip_tokenize(without_ftfy, text))
        rec = {"group": group, "text": text, "ids": ids}
        if ids_no_ftfy != ids:
            rec["ids_no_ftfy"] = ids_no_ftfy
            ftfy_ids_changed += 1
        if ftfy.fix_text(text) != text:
            rec["ftfy_changes_text"] = True
            ftfy_text_changed += 1
        rec["tokens"] = tokens
        rec["ids_ctx8"] = trimmed(clip_tokenize(without_ftfy, text, context_length=8))
        try:
            clip_tokenize(without_ftfy, text, truncate=False)
            rec["fits_77"] = True
        except RuntimeError:
            rec["fits_77"] = False
        rec["decoded"] = without_ftfy.decode(tokens)
        records.append(rec)

    fixture = {
        "about": "CLIP tokenizer reference ids, written by tests/generate_tokenizer_cases.py. "
                 "ids: clip.tokenize(text, 77, truncate=True) row without its zero padding, with ftfy.fix_text as "
                 "CLIP runs it; ids_no_ftfy: the same without ftfy, present only where it differs; tokens: "
                 "SimpleTokenizer.encode without ftfy, untruncated; ids_ctx8: clip.tokenize without ftfy at "
                 "context_length 8; fits_77: clip.tokenize(truncate=False) succeeds; decoded: "
                 "SimpleTokenizer.decode(tokens).",
        "reference": {
            "python": sys.version.split()[0],
            "ftfy": ftfy.__version__,
            "regex": regex.__version__,
        },
        "summary": {
            "cases": len(records),
            "ftfy_changes_text": ftfy_text_changed,
            "ftfy_changes_ids": ftfy_ids_changed,
        },
        "cases": records,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        # One case per line, so that a regenerated fixture diffs readably.
        head = {k: v for k, v in fixture.items() if k != "cases"}
        f.write(json.dumps(head, ensure_ascii=True)[:-1] + ',\n"cases": [\n')
        f.write(",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records))
        f.write("\n]}\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}: {len(records)} cases; ftfy changes the text of "
          f"{ftfy_text_changed} and the ids of {ftfy_ids_changed}")


if __name__ == "__main__":
    main()
