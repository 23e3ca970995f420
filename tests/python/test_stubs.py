"""The type stubs (bindings/python/clipcaer/*.pyi) name what the extension
has: every function, every public member of every class, and Model's
constructor keywords, so editors and type checkers see new options."""
import ast
import re

import clipcaer
import clipcaer._clipcaer as ext
from helpers import REPO

STUB = REPO / "bindings" / "python" / "clipcaer" / "_clipcaer.pyi"


def stub_tree():
    return ast.parse(STUB.read_text())


def public(names):
    return {n for n in names if not n.startswith("_")}


def test_every_function_and_class_member_is_in_the_stubs():
    tree = stub_tree()
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    assert public(k for k, v in vars(ext).items() if callable(v) and not isinstance(v, type)) <= funcs
    assert public(k for k, v in vars(ext).items() if isinstance(v, type) and not issubclass(v, Exception)) <= set(classes)
    for name, node in classes.items():
        members = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        members |= {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        cls = getattr(ext, name)
        assert public(k for k, v in vars(cls).items() if isinstance(v, property) or callable(v)) <= members, name


def test_model_constructor_keywords_match():
    init = next(n for c in stub_tree().body if isinstance(c, ast.ClassDef) and c.name == "Model"
                for n in c.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    stub_args = [a.arg for a in init.args.args[1:]]
    signature = clipcaer.Model.__init__.__doc__.splitlines()[0]
    assert stub_args == re.findall(r"(\w+): ", signature.split("(", 1)[1])[1:], signature
