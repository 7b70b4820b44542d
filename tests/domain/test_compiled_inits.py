"""The compiled build's written-out `__init__`s and order copies are what omnihub.compiled_inits
writes from the fields: the checked-in code never drifts from the field lists, and adding a
field to a dataclass is that one edit (then `python -m omnihub.compiled_inits`)."""

from __future__ import annotations

import ast
import sys
import types
from dataclasses import FrozenInstanceError, dataclass, fields
from datetime import UTC, datetime

import pytest

from omnihub import compiled_inits
from omnihub.compiled_build import COMPILED_MODULES, source_path
from omnihub.compiled_inits import BEGIN, END, MarkedBlockError, rewrite, stale_modules
from omnihub.domain.order_states import OrderState

ORDERS_PY = source_path(compiled_inits.PACKAGE_DIR, "domain.orders")


def test_the_checked_in_code_is_what_the_generator_writes():
    stale = stale_modules()
    assert not stale, (f"written-out code differs from the fields in {sorted(stale)}: "
                       "run `python -m omnihub.compiled_inits` and commit the result")


def _written_out_classes() -> set[str]:
    names = set()
    for module in COMPILED_MODULES:
        source = source_path(compiled_inits.PACKAGE_DIR, module).read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.FunctionDef) and b.name == "__init__" for b in node.body
            ) and BEGIN in ast.get_source_segment(source, node):
                names.add(node.name)
    return names


def test_the_hot_value_classes_are_written_out():
    assert {"Order", "OrderLine", "FulfilmentAssignment", "Movement", "PositionChange", "Assignment",
            "LocationRejection", "RuleTrace", "RoutingDecision", "OrderDiff", "LineChange"} <= _written_out_classes()


def _load(source: str, name: str = "omnihub_written_out_probe") -> types.ModuleType:
    """Run `source` as a module of its own (dataclasses look the module up by name)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def test_a_field_added_to_order_is_one_edit_the_generator_carries_into_init_and_copy():
    source = ORDERS_PY.read_text()
    declared = '    notes: str = ""\n'
    assert source.count(declared) == 1
    edited = source.replace(declared, declared + '    gift_message: str = ""\n')

    written = _load(rewrite(edited))

    assert rewrite(rewrite(edited)) == rewrite(edited)
    t0 = datetime(2026, 12, 3, 10, tzinfo=UTC)
    order = written.Order("shopify", "1001", t0, (written.OrderLine("1", "TENT", 2),), notes="n", gift_message="hi")
    assert order.gift_message == "hi" and order.notes == "n"
    assert "gift_message" in {f.name for f in fields(order)}
    copy = written.copy_order(order, state=OrderState.ALLOCATED, id=7)
    assert (copy.gift_message, copy.state, copy.id, copy.notes) == ("hi", OrderState.ALLOCATED, 7, "n")
    assert written.Order("shopify", "1001", t0, ()).gift_message == ""
    with pytest.raises(ValueError, match="timezone-aware"):  # __post_init__ still runs, last
        written.Order("shopify", "1001", datetime(2026, 12, 3), (), gift_message="hi")


SAMPLE = f'''
from __future__ import annotations
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Parcel:
    """A sample value class."""

    code: str
    weight_g: int
    carrier: str | None = None
    fragile: bool = False

    {BEGIN}
    {END}

    def __post_init__(self) -> None:
        if self.weight_g < 0:
            raise ValueError("negative weight")


@dataclass(slots=True)
class Tally:
    sku: str
    units: int = 0

    {BEGIN}
    {END}


def relabel(p: Parcel, code: str, *, carrier: str | None = None) -> Parcel:
    """`p` under another code."""
    {BEGIN}
    {END}
'''


@dataclass(frozen=True, slots=True)
class GeneratedParcel:  # what @dataclass itself makes of the same fields
    code: str
    weight_g: int
    carrier: str | None = None
    fragile: bool = False


def test_a_written_out_init_does_what_the_dataclass_one_does():
    written = _load(rewrite(SAMPLE))
    for args, kwargs in [(("A", 5), {}), (("A", 5, "ups"), {}), (("A", 5), {"fragile": True}),
                         ((), {"code": "B", "weight_g": 1, "carrier": "dhl", "fragile": True})]:
        p, g = written.Parcel(*args, **kwargs), GeneratedParcel(*args, **kwargs)
        assert [getattr(p, f.name) for f in fields(p)] == [getattr(g, f.name) for f in fields(g)]
    with pytest.raises(TypeError):
        written.Parcel("A")
    with pytest.raises(ValueError, match="negative"):
        written.Parcel("A", -1)
    with pytest.raises(FrozenInstanceError):
        written.Parcel("A", 1).code = "B"  # type: ignore[misc]
    tally = written.Tally("TENT")
    tally.units += 2
    assert (tally.sku, tally.units) == ("TENT", 2)


def test_a_written_out_copy_replaces_what_its_parameters_name_and_keeps_the_rest():
    written = _load(rewrite(SAMPLE))
    p = written.Parcel("A", 5, "ups", True)
    assert written.relabel(p, "B") == written.Parcel("B", 5, "ups", True)
    assert written.relabel(p, "B", carrier="dhl") == written.Parcel("B", 5, "dhl", True)
    assert written.relabel.__doc__ == "`p` under another code."


@pytest.mark.parametrize(("change", "complaint"), [
    ("def relabel(p: Parcel, code: str, *, carrier: str | None = None) -> Parcel:",
     "def relabel(p: Parcel, label: str) -> Parcel:"),
    ("def relabel(p: Parcel, code: str, *, carrier: str | None = None) -> Parcel:",
     "def relabel(p: Parcel, code: str = 'X') -> Parcel:"),
    ("def relabel(p: Parcel, code: str, *, carrier: str | None = None) -> Parcel:",
     "def relabel(p: Parcel, code: str) -> dict:"),
    ("    fragile: bool = False\n", "    fragile: list = field(default_factory=list)\n"),
])
def test_what_cannot_be_written_out_is_refused_by_name(change, complaint):
    with pytest.raises(MarkedBlockError):
        rewrite(SAMPLE.replace(change, complaint))


def test_a_block_without_its_end_is_refused():
    with pytest.raises(MarkedBlockError, match="end line"):
        rewrite(SAMPLE.replace(f"    {END}\n\n    def __post_init__", "\n    def __post_init__", 1))


def test_check_names_a_stale_module_and_says_how_to_write_it_out(tmp_path, capsys, monkeypatch):
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "parcels.py").write_text(SAMPLE)
    assert set(stale_modules(tmp_path, ("domain.parcels",))) == {"domain.parcels"}
    monkeypatch.setattr(compiled_inits, "stale_modules", lambda: {"domain.parcels": rewrite(SAMPLE)})
    assert compiled_inits.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "omnihub.domain.parcels" in err and "python -m omnihub.compiled_inits" in err
