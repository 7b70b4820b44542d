"""Writes out, from the dataclasses' own fields, the code that the compiled build needs spelt out.

mypyc compiles a class's methods but leaves the `__init__` that `@dataclass` generates
interpreted, so constructing a hot value class from compiled code costs several times what
a written-out `__init__` costs (docs/benchmarks.md, "Written-out constructors"); the same
goes for `dataclasses.replace`, which finds the fields by introspection on every call. So
the hottest classes of the compiled modules carry an `__init__` that sets each field, and
the order model has copies (`copy_order`, `copy_line`) that name every field. Neither is
written by hand: between the two marker lines below, this module writes them from the
field list, so that adding a field is one edit (plus its mapping to the database and the
channels). A test fails while the checked-in code differs from what this writes.

    python -m omnihub.compiled_inits          # rewrite every marked block
    python -m omnihub.compiled_inits --check  # say which modules are stale, exit 1 if any

A marked block inside a dataclass becomes its `__init__` (parameters and defaults as the
fields declare them, `__post_init__` called last if the class has one). A marked block
inside a function becomes a copy: the function returns the class it is annotated to
return, built from its first parameter's fields, except that each further parameter named
after a field replaces that field (a parameter whose default is `None` keeps the field when
it is None).

Standard library only, like compiled_build.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

from omnihub.compiled_build import COMPILED_MODULES, source_path

BEGIN = "# -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this"
END = "# -- end of the written-out code"
LINE_LENGTH = 120
PACKAGE_DIR = Path(__file__).resolve().parent


class MarkedBlockError(ValueError):
    """A marked block this module cannot write (says where and why)."""


@dataclass(frozen=True)
class Field:
    name: str
    annotation: str
    default: str | None  # source text, None: required


@dataclass(frozen=True)
class ValueClass:
    name: str
    fields: tuple[Field, ...]
    frozen: bool
    has_post_init: bool


def _is_dataclass(node: ast.ClassDef) -> bool:
    return any("dataclass" in ast.unparse(d) for d in node.decorator_list)


def value_class(node: ast.ClassDef, source: str) -> ValueClass:
    """The fields of a dataclass as its source declares them."""
    fields = []
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        annotation = ast.get_source_segment(source, stmt.annotation) or ast.unparse(stmt.annotation)
        if annotation.startswith(("ClassVar", "typing.ClassVar", "InitVar", "dataclasses.InitVar")):
            continue
        default = None if stmt.value is None else (ast.get_source_segment(source, stmt.value) or ast.unparse(stmt.value))
        fields.append(Field(stmt.target.id, annotation, default))
    frozen = any("frozen=True" in ast.unparse(d) for d in node.decorator_list)
    post_init = any(isinstance(b, ast.FunctionDef) and b.name == "__post_init__" for b in node.body)
    return ValueClass(node.name, tuple(fields), frozen, post_init)


def _call(head: str, items: list[str], tail: str, indent: str) -> list[str]:
    """`head(items...)tail` on one line if it fits, else one item a line."""
    one = f"{indent}{head}{', '.join(items)}{tail}"
    if len(one) <= LINE_LENGTH:
        return [one]
    return [f"{indent}{head}", *(f"{indent}    {item}," for item in items), f"{indent}{tail}"]


def render_init(cls: ValueClass, indent: str) -> list[str]:
    for f in cls.fields:
        if f.default is not None and "field(" in f.default:
            raise MarkedBlockError(f"{cls.name}.{f.name}: a field(...) default cannot be written out")
    params = ["self"] + [f"{f.name}: {f.annotation}" + ("" if f.default is None else f" = {f.default}")
                         for f in cls.fields]
    lines = _call("def __init__(", params, ") -> None:", indent)
    body = indent + "    "
    for f in cls.fields:
        lines.append(f'{body}object.__setattr__(self, "{f.name}", {f.name})' if cls.frozen
                     else f"{body}self.{f.name} = {f.name}")
    if cls.has_post_init:
        lines.append(f"{body}self.__post_init__()")
    return lines


def render_copy(func: ast.FunctionDef, classes: dict[str, ValueClass], indent: str) -> list[str]:
    where = f"{func.name}()"
    returns = ast.unparse(func.returns) if func.returns else ""
    if returns not in classes:
        raise MarkedBlockError(f"{where} must be annotated to return a dataclass of its module, not {returns!r}")
    cls = classes[returns]
    names = {f.name for f in cls.fields}
    args = func.args
    positional = args.posonlyargs + args.args
    if not positional:
        raise MarkedBlockError(f"{where}: its first parameter is the {cls.name} to copy")
    source = positional[0].arg
    defaults = dict(zip([a.arg for a in positional][len(positional) - len(args.defaults):], args.defaults))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    replaced = {}
    for a in positional[1:] + args.kwonlyargs:
        if a.arg not in names:
            raise MarkedBlockError(f"{where}: parameter {a.arg!r} is not a field of {cls.name}")
        default = defaults.get(a.arg)
        if default is None:
            replaced[a.arg] = a.arg
        elif isinstance(default, ast.Constant) and default.value is None:
            replaced[a.arg] = f"{source}.{a.arg} if {a.arg} is None else {a.arg}"
        else:
            raise MarkedBlockError(f"{where}: parameter {a.arg!r} needs no default or None (None: kept)")
    items = [replaced.get(f.name, f"{source}.{f.name}") for f in cls.fields]
    return [f"{indent}return {cls.name}(", *(f"{indent}    {item}," for item in items), f"{indent})"]


def _owner(tree: ast.Module, lineno: int, indent: int) -> ast.ClassDef | ast.FunctionDef | None:
    """The class or function that a marker at line `lineno`, indented by `indent`, sits in:
    the last one above it indented one level less (a block may still be empty)."""
    owners = [n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))
              and n.lineno < lineno and n.col_offset == indent - 4]
    return max(owners, key=lambda n: n.lineno, default=None)


def rewrite(source: str, where: str = "<source>") -> str:
    """`source` with every marked block written out anew from the fields it declares."""
    tree = ast.parse(source)
    classes = {n.name: value_class(n, source) for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and _is_dataclass(n)}
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        if lines[i].strip() != BEGIN:
            i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() in (BEGIN, END)), None)
        if end is None or lines[end].strip() != END:
            raise MarkedBlockError(f"{where}:{i + 1}: a marked block without its end line ({END!r})")
        node = _owner(tree, i + 1, len(indent))
        if isinstance(node, ast.ClassDef) and node.name in classes:
            block = render_init(classes[node.name], indent)
        elif isinstance(node, ast.FunctionDef):
            block = render_copy(node, classes, indent)
        else:
            raise MarkedBlockError(f"{where}:{i + 1}: a marked block belongs in a dataclass or a copy function")
        out.extend(line + "\n" for line in block)
        out.append(lines[end])
        i = end + 1
    return "".join(out)


def stale_modules(package_dir: Path = PACKAGE_DIR, modules: tuple[str, ...] = COMPILED_MODULES) -> dict[str, str]:
    """Modules whose marked blocks differ from what `rewrite` writes: name → new source."""
    stale = {}
    for module in modules:
        path = source_path(package_dir, module)
        old = path.read_text()
        new = rewrite(old, str(path.relative_to(package_dir.parent)))
        if new != old:
            stale[module] = new
    return stale


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = stale_modules()
    for module, new in stale.items():
        if "--check" in argv:
            print(f"omnihub.{module}: written-out code differs from its fields", file=sys.stderr)
        else:
            source_path(PACKAGE_DIR, module).write_text(new)
            print(f"omnihub.{module}: written out")
    if stale and "--check" in argv:
        print("run `python -m omnihub.compiled_inits` to write it out", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
