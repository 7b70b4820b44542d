"""Holding the Walmart sandbox to Walmart's own v3 artefacts and to the project's subset schema.

Walmart's XSDs and mock responses (shared/contracts/walmart/legacy-xml-v3, Apache-2.0) are
XML; today's API is JSON with the XML's element names. Where shapes overlap, a JSON body
is *projected* onto the XSD and validated with xmlschema:

- an object becomes an element's children, in the XSD's sequence order (JSON objects
  have none); a list becomes repeated elements, or the repeated children of a wrapper
  the XSD has and the JSON leaves out (``errors: [...]`` is ``errors/error*``);
- epoch milliseconds become ``xsd:dateTime`` where the XSD types a field so;
- a field the XSD does not have is an error unless the subset schema marks it
  ``x-beyond-xsd`` (a field of today's API the 2016-2020 XSDs predate), and a value
  outside an XSD enumeration is an error unless it is one of its ``x-beyond-xsd-values``.

The other way round, Walmart's XML mocks are decoded with the XSDs and checked against
the subset schema: the project's schema must accept what Walmart itself answered.
"""

from __future__ import annotations

import functools
import importlib
import os
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from omnihub_sandbox.walmart.contract import problems, subset_schema
from shared_contracts import require_shared

PAYLOAD = ("contracts", "walmart", "legacy-xml-v3", "Source", "Walmart.Sdk.Marketplace", "V3", "Payload")
MOCKS = ("contracts", "walmart", "legacy-xml-v3", "Source", "Walmart.Sdk.Marketplace", "resources", "payloadMock", "v3")
REQUESTS = ("contracts", "walmart", "legacy-xml-v3", "Sample", "resources", "requestExamples", "v3")


def _xmlschema() -> Any:
    """xmlschema, the sandbox's test extra (``pip install -e './sandbox[test]'``): a skip
    saying so where it is missing, a failure where CI demands the shared contracts."""
    try:
        return importlib.import_module("xmlschema")
    except ImportError:
        message = "xmlschema is not installed: pip install -e './sandbox[test]'"
        if os.environ.get("OMNIHUB_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)


@functools.lru_cache(maxsize=None)
def xsd(relative: str) -> Any:
    return _xmlschema().XMLSchema10(str(require_shared(*PAYLOAD) / relative))


def mock(name: str) -> Path:
    return require_shared(*MOCKS) / name


def request_example(name: str) -> Path:
    return require_shared(*REQUESTS) / name


def _resolve(node: dict[str, Any] | None) -> dict[str, Any] | None:
    defs = subset_schema()["$defs"]
    while node is not None and "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return node


def _child_schema(node: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    node = _resolve(node)
    return _resolve((node or {}).get("properties", {}).get(key))


def _items_schema(node: dict[str, Any] | None) -> dict[str, Any] | None:
    return _resolve((_resolve(node) or {}).get("items"))


def _is_datetime(decl: Any) -> bool:
    simple = decl.type if decl.type.is_simple() else None
    return simple is not None and getattr(simple.primitive_type, "local_name", None) == "dateTime"


def _text(value: Any, decl: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and _is_datetime(decl):
        moment = datetime.fromtimestamp(value / 1000, tz=timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


class Projection:
    """One JSON body projected onto one XSD element; `errors` lists what could not be."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.tolerated: set[int] = set()  # id() of elements holding a declared beyond-XSD value

    def element(self, value: Any, decl: Any, node: dict[str, Any] | None, path: str) -> ET.Element:
        element = ET.Element(decl.qualified_name if decl.qualified else decl.local_name)
        self._fill(element, value, decl, node, path)
        return element

    def _fill(self, element: ET.Element, value: Any, decl: Any, node: dict[str, Any] | None, path: str) -> None:
        content = getattr(decl.type, "content", None)
        children = list(content.iter_elements()) if content is not None and hasattr(content, "iter_elements") else []
        if isinstance(value, list):  # a JSON list under a wrapper the XSD has
            repeated = [c for c in children if c.max_occurs is None or c.max_occurs > 1]
            if len(children) != 1 or not repeated:
                self.errors.append(f"{path}: a list where the XSD has {decl.local_name} without one repeated child")
                return
            for index, item in enumerate(value):
                element.append(self.element(item, children[0], _items_schema(node), f"{path}[{index}]"))
            return
        if isinstance(value, dict):
            if not children:
                if value and decl.type.local_name != "anyType":
                    self.errors.append(f"{path}: an object where the XSD has a simple {decl.local_name}")
                return
            by_name = {c.local_name: (position, c) for position, c in enumerate(children)}
            placed: list[tuple[int, int, ET.Element]] = []
            for order, (key, item) in enumerate(value.items()):
                child_node = _child_schema(node, key)
                if key not in by_name:
                    if child_node is None or "x-beyond-xsd" not in child_node:
                        self.errors.append(f"{path}.{key}: not in the XSD and not marked x-beyond-xsd")
                    continue
                position, child = by_name[key]
                if isinstance(item, list) and (child.max_occurs is None or child.max_occurs > 1):
                    for index, one in enumerate(item):
                        placed.append((position, order, self.element(one, child, _items_schema(child_node),
                                                                     f"{path}.{key}[{index}]")))
                else:
                    placed.append((position, order, self.element(item, child, child_node, f"{path}.{key}")))
            for _, _, child_element in sorted(placed, key=lambda p: (p[0], p[1])):
                element.append(child_element)
            return
        element.text = _text(value, decl)
        beyond_values = (node or {}).get("x-beyond-xsd-values", {})
        if isinstance(value, str) and value in beyond_values:
            self.tolerated.add(id(element))


def xsd_problems(body: dict[str, Any], definition: str) -> list[str]:
    """Every way `body` (a response of the subset schema's `definition`) breaks its XSD."""
    node = subset_schema()["$defs"][definition]
    target = node["x-xsd"]
    schema = xsd(target["file"])
    decl = schema.elements[target["element"]]
    value = body[target["unwrap"]] if "unwrap" in target else body
    start = _child_schema(node, target["unwrap"]) if "unwrap" in target else node
    projection = Projection()
    root = projection.element(value, decl, start, target["element"])
    found = list(projection.errors)
    for error in schema.iter_errors(ET.ElementTree(root)):
        if id(error.elem) in projection.tolerated:
            continue
        found.append(f"{error.path}: {error.reason}")
    return found


# -- Walmart's XML, read the other way ----------------------------------------------------------

def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _leaf(text: str, node: dict[str, Any] | None) -> Any:
    kind = (node or {}).get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if (node or {}).get("description") == "epoch milliseconds":
        return _ms(text)
    if kinds == {"array"}:
        return []  # an empty element holding a list
    if kinds == {"object"}:
        return {}
    if kinds == {"integer"}:
        return int(text)
    if kinds == {"number"}:
        return float(text)
    return text


def xml_as_json(element: ET.Element, node: dict[str, Any] | None) -> Any:
    """Walmart's XML as its JSON API has it: names without namespaces, leaves typed and lists
    where the subset schema has them (the XML's wrapper of a list dropped, as in
    ``errors/error*``). Guided by the subset schema, not the XSD, so children the XSD does
    not know (today's fields in Walmart's own mocks) are kept for the schema to judge."""
    node = _resolve(node)
    if len(element) == 0:
        return _leaf((element.text or "").strip(), node)
    if (node or {}).get("type") == "array":
        return [xml_as_json(child, _items_schema(node)) for child in element]
    out: dict[str, Any] = {}
    for child in element:
        key = child.tag.rsplit("}", 1)[-1]
        child_node = _child_schema(node, key)
        if child_node is not None and child_node.get("type") == "array":
            items = _items_schema(child_node)
            tags = {c.tag.rsplit("}", 1)[-1] for c in child}
            if len(child) == 0 or (len(tags) == 1 and tags.pop() not in (items or {}).get("properties", {})):
                out[key] = [xml_as_json(c, items) for c in child]  # the XML wraps the list, the JSON does not
            else:
                out.setdefault(key, []).append(xml_as_json(child, items))  # repeated siblings
        else:
            out[key] = xml_as_json(child, child_node)
    return out


def read_xml(path: Path) -> ET.Element:
    return ET.fromstring(path.read_text(encoding="utf-8-sig"))


def decoded_mock(name: str, xsd_file: str, definition: str, unwrap: str | None = None) -> tuple[Any, list[str]]:
    """A mock as JSON (shaped by the subset schema) and its XSD's complaints about it."""
    errors = [f"{e.path}: {e.reason}" for e in xsd(xsd_file).iter_errors(str(mock(name)))]
    node = subset_schema()["$defs"][definition]
    root = read_xml(mock(name))
    if unwrap:
        return {unwrap: xml_as_json(root, _child_schema(node, unwrap))}, errors
    return xml_as_json(root, node), errors


def schema_problems(definition: str, body: Any) -> list[tuple[str, str]]:
    return problems(definition, body)
