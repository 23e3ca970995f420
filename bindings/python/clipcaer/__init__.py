"""clipcaer: CLIP-CAER academic emotion recognition, C++ inference from Python."""

from ._clipcaer import *  # noqa: F401,F403
