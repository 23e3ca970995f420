"""Rewrites the block between two HTML-comment markers of a markdown file
(the generated tables of docs/performance.md)."""


def replace_block(text, begin, end, block):
    """text with what lies between begin and end replaced by block; None if a marker is missing."""
    if begin not in text or end not in text:
        return None
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    return f"{head}{begin}\n{block}\n{end}{tail}"
