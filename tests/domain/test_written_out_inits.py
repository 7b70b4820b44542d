"""Dataclasses whose `__init__` is written out (so that a compiled build constructs them
natively: the `__init__` that `dataclasses` generates stays interpreted, see
compiled_build) must take exactly what the dataclass declares.

Read from the source, so it holds for either build: the parameters are the fields, in
order, with the same annotations and defaults; each field is set once, from its own
parameter; and `__post_init__`, where the class has one, runs last."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import omnihub

PACKAGE = Path(omnihub.__file__).resolve().parent


def _written_out() -> list[tuple[str, ast.ClassDef, ast.FunctionDef]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any("dataclass" in ast.unparse(d) for d in node.decorator_list):
                init = next((b for b in node.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
                if init is not None:
                    found.append((f"{path.relative_to(PACKAGE)}:{node.name}", node, init))
    return found


CASES = _written_out()


def test_the_hot_value_classes_are_written_out():
    names = {name.split(":")[1] for name, _, _ in CASES}
    assert {"Order", "OrderLine", "Movement", "Assignment", "LocationRejection", "RuleTrace"} <= names


@pytest.mark.parametrize(("name", "cls", "init"), CASES, ids=[c[0] for c in CASES])
def test_a_written_out_init_takes_exactly_the_fields(name, cls, init):
    fields = [b for b in cls.body if isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name)
              and not ast.unparse(b.annotation).startswith("ClassVar")]
    args = init.args
    assert [a.arg for a in args.args] == ["self", *(f.target.id for f in fields)], name
    assert not (args.vararg or args.kwarg or args.kwonlyargs), name
    assert [ast.unparse(a.annotation) for a in args.args[1:]] == [ast.unparse(f.annotation) for f in fields], name
    declared = [ast.unparse(f.value) for f in fields if f.value is not None]
    assert [ast.unparse(d) for d in args.defaults] == declared, name
    assert len(declared) == len(args.defaults) and all("field(" not in d for d in declared), name

    frozen = any("frozen=True" in ast.unparse(d) for d in cls.decorator_list)
    sets = []
    for stmt in init.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(stmt, ast.Assign) and not frozen:
            sets.append((stmt.targets[0].attr, stmt.value.id))
        elif isinstance(call, ast.Call) and ast.unparse(call.func) == "object.__setattr__" and frozen:
            sets.append((call.args[1].value, call.args[2].id))
    assert sets == [(f.target.id, f.target.id) for f in fields], name

    has_post = any(isinstance(b, ast.FunctionDef) and b.name == "__post_init__" for b in cls.body)
    calls_post = ast.unparse(init.body[-1]) == "self.__post_init__()"
    assert calls_post == has_post, name
