"""Class names and descriptors: RAER's defaults and the --classes JSON file."""

import json

from errors import ConvertError

# RAER's five classes in label order 1..5, with the descriptor strings of the
# official training code verbatim (some commas lack a following space).
RAER_CLASSES = [
    {"name": "Neutrality",
     "descriptor": "Relaxed mouth,open eyes,neutral eyebrows,no noticeable emotional changes,"
                   "engaged with study materials, or natural body posture."},
    {"name": "Enjoyment",
     "descriptor": "Upturned mouth corners,sparkling eyes,relaxed eyebrows,focused on course content,"
                   "or occasionally nodding in agreement."},
    {"name": "Confusion",
     "descriptor": "Furrowed eyebrows, slightly open mouth, wandering or puzzled gaze, "
                   "chin rests on the palm,or eyes lock on learning material."},
    {"name": "Fatigue",
     "descriptor": "Mouth opens in a yawn, eyelids droop, head tilts forward, "
                   "eyes lock on learning material, or hand writing."},
    {"name": "Distraction",
     "descriptor": "Shifting eyes, restless or fidgety posture, relaxed but unfocused expression,"
                   "frequently checking phone,or averted gaze from study materials."},
]


def load_classes(path):
    """[{"name", "descriptor"}] from `{"classes": [{"name": ..., "descriptor": ...}, ...]}`;
    other keys are ignored, a missing descriptor is ""."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise ConvertError(f"{path}: cannot read: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConvertError(f"{path}: not valid JSON: {e}") from None
    entries = doc.get("classes") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConvertError(f'{path}: expected {{"classes": [{{"name": ..., "descriptor": ...}}, ...]}} '
                           "with at least one class")
    classes = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConvertError(f"{path}: classes[{i}] is a {type(entry).__name__}, expected an object")
        name = entry.get("name")
        descriptor = entry.get("descriptor", "")
        if not isinstance(name, str) or not name.strip():
            raise ConvertError(f'{path}: classes[{i}] needs a non-empty string "name"')
        if not isinstance(descriptor, str):
            raise ConvertError(f'{path}: classes[{i}] ({name}): "descriptor" must be a string')
        classes.append({"name": name, "descriptor": descriptor})
    return classes
