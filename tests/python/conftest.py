"""Shared pytest setup: paths to the repository, fixtures and ../shared."""
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"

# The converter is a script directory, importable for tests.
sys.path.insert(0, str(REPO / "weights"))
