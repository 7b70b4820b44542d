"""The hub's limits on what it is given, defined once: the HTTP API's schemas and route
parameters, and the use cases' own checks (what the CLI, the channel connectors and the
inbox hand them), are built from these numbers.

Why limits at all: a value the database refuses fails the transaction it is in, and the
stock writer runs many callers' jobs in one transaction (adapters/db/group_commit.py).
The writer isolates such a job and answers it alone, but at a cost to its neighbours (a
batch split in two, again and again); a value refused at the door costs nobody anything
and tells its caller which field is wrong. So every number that reaches a column fits
the column on both backends, and every text fits its column and holds no NUL character
(PostgreSQL's text cannot hold one; SQLite would keep it and hand it to a channel).

Columns: ids are 64-bit; balances, quantities, allocations and most prices of the
catalog are PostgreSQL `integer`, 32-bit. The bounds below leave room for sums: a
position's balance is capped well under 2^31 so that a few locations' stock summed into
a channel's pool still fits.
"""

from __future__ import annotations

from collections.abc import Iterable

from omnihub.domain.ledger import MAX_BALANCE, LedgerError

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

#: ids of orders, movements, intents, runs, ...; and `after_id` cursors over them
MAX_ID = INT64_MAX
#: ids of the catalog's rows (products, locations, customers) and of oversell incidents:
#: 32-bit columns, which PostgreSQL refuses to compare with a larger number
MAX_CATALOG_ID = INT32_MAX
#: units in one movement, receipt, transfer or stock operation, and a counted shelf
MAX_QUANTITY = 10_000_000
#: MAX_BALANCE (units in one balance of one position; a movement that would take a balance
#: past it is refused) is the ledger's own rule: it lives beside the fold, in ledger.py
#: units on one order line
MAX_LINE_QUANTITY = 100_000
#: lines on one order
MAX_ORDER_LINES = 500
#: a unit price, a line's tax or discount (minor units): 500 lines of 100,000 units at
#: this price still fit an order's 64-bit value
MAX_PRICE_MINOR = 100_000_000_000
#: safety stock, threshold, fixed allocation, buffer, a day's order capacity
MAX_STOCK_SETTING = MAX_BALANCE
#: a location's cost per shipment (minor units; a 32-bit column)
MAX_COST_MINOR = 1_000_000_000
#: a location's routing priority, either way of zero
MAX_PRIORITY = 1_000_000

#: text lengths (the columns')
CODE_LENGTH = 64  # location, channel codes
SKU_LENGTH = 128
REFERENCE_LENGTH = 200  # reference documents, actors, idempotency keys, external ids
LINE_ID_LENGTH = 100
SHIPMENT_ID_LENGTH = 100  # "<order id>-<location>-<tracking number>"
NOTE_LENGTH = 5000
#: a text with no stated column (names of things, address lines, tags, reasons)
TEXT_LENGTH = 500
#: a text a channel's order carries only in its document (notes, address, tags): no column
#: bounds it, so a channel's long note is kept; the bound only stops the absurd
DOCUMENT_TEXT_LENGTH = 100_000

#: the JSON-schema pattern of a text without NUL (the API's schemas use it)
NO_NUL_PATTERN = r"^[^\x00]*$"


def check_whole(value: object, field: str, *, low: int = 0, high: int = MAX_QUANTITY) -> None:
    """`value` is an int (not a bool) within [low, high], else LedgerError on `field`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError(f"{field} must be a whole number", field=field, code="invalid_number")
    if value < low:
        floor = "positive" if low == 1 else f"a whole number ≥ {low}"
        raise LedgerError(f"{field} must be {floor}, got {value}", field=field)
    if value > high:
        raise LedgerError(f"{field} must be at most {high}, got {value}", field=field, code="out_of_range")


def check_text(value: object, field: str, length: int = TEXT_LENGTH) -> None:
    """`value` is None or a text of at most `length` characters without NUL."""
    if value is None:
        return
    if not isinstance(value, str):
        raise LedgerError(f"{field} must be text", field=field, code="invalid_text")
    if len(value) > length:
        raise LedgerError(f"{field} is longer than {length} characters", field=field, code="too_long")
    if "\x00" in value:
        raise LedgerError(f"{field} must not contain a NUL character", field=field, code="invalid_text")


def check_texts(pairs: Iterable[tuple[str, object, int]]) -> None:
    """check_text over (field, value, length) triples."""
    for field, value, length in pairs:
        check_text(value, field, length)


def _text_ok(v: object, length: int) -> bool:
    return v is None or (type(v) is str and len(v) <= length and "\x00" not in v)


def _whole_ok(v: object, high: int) -> bool:
    return type(v) is int and 0 <= v <= high


def check_order(order) -> None:
    """An order as a channel, the API or a test states it (omnihub.domain.orders.Order):
    its texts fit their columns (those kept only in its document, a generous bound) and
    hold no NUL (PostgreSQL's JSON cannot), its numbers their bounds. Raises LedgerError
    naming the field. Written for speed (every order of every channel passes here): the
    common case is a handful of comparisons, the error path says what is wrong."""
    head = (("channel", order.channel, CODE_LENGTH), ("external_id", order.external_id, REFERENCE_LENGTH),
            ("currency", order.currency, 3), ("billing_country", order.billing_country, DOCUMENT_TEXT_LENGTH),
            ("notes", order.notes, DOCUMENT_TEXT_LENGTH))
    for field, v, length in head:
        if not _text_ok(v, length):
            check_text(v, field, length)
    c = order.customer
    for field, v, length in (("customer.channel_customer_id", c.channel_customer_id, REFERENCE_LENGTH),
                             ("customer.email", c.email, 320), ("customer.phone", c.phone, REFERENCE_LENGTH)):
        if not _text_ok(v, length):
            check_text(v, field, length)
    a = order.shipping_address
    if a is not None:
        for field in ("line1", "line2", "city", "region", "postal_code", "country"):
            v = getattr(a, field)
            if not _text_ok(v, DOCUMENT_TEXT_LENGTH):
                check_text(v, f"shipping_address.{field}", DOCUMENT_TEXT_LENGTH)
    for tag in order.tags:
        if not _text_ok(tag, DOCUMENT_TEXT_LENGTH):
            check_text(tag, "tags", DOCUMENT_TEXT_LENGTH)
    if len(order.lines) > MAX_ORDER_LINES:
        raise LedgerError(f"an order has at most {MAX_ORDER_LINES} lines", field="lines", code="out_of_range")
    # A live order sells something: at least one line, each of at least one unit (as the
    # API's schema says). Only a cancellation may come with no lines or lines of 0 units
    # (a channel may zero a cancelled order's quantities): it sells nothing either way.
    # Without this, a channel's order of no lines went in as a `cancelled` order.
    low = 0 if order.cancelled else 1
    if low and not order.lines:
        raise LedgerError("an order needs at least one line", field="lines", code="no_lines")
    for line in order.lines:
        where = f"lines.{line.line_id}" if _text_ok(line.line_id, LINE_ID_LENGTH) else "lines"
        if not (_text_ok(line.line_id, LINE_ID_LENGTH) and _text_ok(line.sku, SKU_LENGTH)):
            check_text(line.line_id, "lines.line_id", LINE_ID_LENGTH)
            check_text(line.sku, f"{where}.sku", SKU_LENGTH)
        if not (_whole_ok(line.quantity, MAX_LINE_QUANTITY) and line.quantity >= low
                and _whole_ok(line.cancelled_quantity, MAX_LINE_QUANTITY)
                and _whole_ok(line.unit_price_minor, MAX_PRICE_MINOR) and _whole_ok(line.tax_minor, MAX_PRICE_MINOR)):
            check_whole(line.quantity, f"{where}.quantity", low=low, high=MAX_LINE_QUANTITY)
            check_whole(line.cancelled_quantity, f"{where}.cancelled_quantity", high=MAX_LINE_QUANTITY)
            check_whole(line.unit_price_minor, f"{where}.unit_price_minor", high=MAX_PRICE_MINOR)
            check_whole(line.tax_minor, f"{where}.tax_minor", high=MAX_PRICE_MINOR)
        for d in line.discounts:
            if not (_whole_ok(d.amount_minor, MAX_PRICE_MINOR) and _text_ok(d.code, DOCUMENT_TEXT_LENGTH)):
                check_whole(d.amount_minor, f"{where}.discount_minor", high=MAX_PRICE_MINOR)
                check_text(d.code, f"{where}.discounts.code", DOCUMENT_TEXT_LENGTH)
