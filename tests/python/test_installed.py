"""Checks that hold for the pip-installed package as well as the build tree."""
import os
import pathlib

import pytest

clipcaer = pytest.importorskip("clipcaer")


def test_package_is_where_expected():
    where = pathlib.Path(clipcaer.__file__).resolve()
    if os.environ.get("CLIPCAER_REQUIRE_INSTALLED"):
        assert "site-packages" in str(where)
    assert (where.parent / "py.typed").exists()
    assert list(where.parent.glob("_clipcaer*.so"))


def test_public_names_have_docstrings():
    for name in ["Model", "Prediction", "BatchPrediction", "load_clip", "Tokenizer"]:
        obj = getattr(clipcaer, name)
        assert obj.__doc__ and len(obj.__doc__) > 10, name
    for method in ["classify_clip", "classify_clips", "features", "encode_images", "classify_folder"]:
        assert getattr(clipcaer.Model, method).__doc__, method


def test_version():
    assert clipcaer.__version__.count(".") == 2


def test_preprocess_submodule_imports_both_ways():
    import importlib
    mod = importlib.import_module("clipcaer.preprocess")
    assert mod is clipcaer.preprocess
    assert mod.sample_indices(32, 16)[:2] == [1, 3]
