"""The seller's whole catalogue as Amazon reports it: GET_MERCHANT_LISTINGS_ALL_DATA
through the Reports API (createReport, getReport until DONE, getReportDocument, the
document from its presigned URL), read as it downloads.

searchListingsItems stops at 1,000 listings; a report has every one. It is a snapshot
Amazon makes when it processes the report, which reconciliation asks for before it
copies the hub's intents (as it starts Shopify's bulk query), and so judges as it judges
a bulk read: a key that moved since the run started is not judged.

The document is tab-separated with a header line of Amazon's column names, gzip when
getReportDocument says `compressionAlgorithm: GZIP`. It is decompressed, decoded and
split into lines chunk by chunk as it arrives, so memory holds a chunk and a line
whatever the catalogue's size; reconciliation spools the levels a page at a time.
"""

from __future__ import annotations

import codecs
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ValidationError

from omnihub.adapters.channels.amazon.order_mapping import AmazonPayloadError

LISTINGS_ALL = "GET_MERCHANT_LISTINGS_ALL_DATA"
MERCHANT_FULFILLED = "DEFAULT"  # fulfillment-channel of a listing the seller ships (AMAZON_NA etc.: FBA)
#: How long a report may take before the read gives up (Amazon's take minutes, at worst an hour).
REPORT_WAIT_S = 3600.0
FIRST_POLL_S, MAX_POLL_S = 0.25, 30.0  # getReport's waits grow from the first to the most


class _Report(BaseModel):
    reportId: str
    reportType: str
    processingStatus: Literal["CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"]
    reportDocumentId: str | None = None


class _Document(BaseModel):
    reportDocumentId: str
    url: str
    compressionAlgorithm: Literal["GZIP"] | None = None


@dataclass(frozen=True, slots=True)
class ReportedListing:
    sku: str
    quantity: int  # what the seller ships (fulfillment-channel DEFAULT); 0 for Amazon-fulfilled ones
    asin: str | None
    status: str | None


def wait_for_report(client, report_id: str, *, timeout_s: float = REPORT_WAIT_S,
                    sleep=time.sleep, clock=time.monotonic) -> _Document | None:
    """Poll getReport until the report is made; its document (None: Amazon cancelled it,
    which it does when there is nothing to report). A FATAL report is an error."""
    deadline = clock() + timeout_s
    wait = FIRST_POLL_S
    while True:
        try:
            report = _Report.model_validate(client.get_report(report_id))
        except ValidationError as exc:
            raise AmazonPayloadError(f"getReport answer not understood: {exc}") from exc
        if report.processingStatus == "DONE":
            if not report.reportDocumentId:
                raise AmazonPayloadError(f"report {report_id} is DONE without a reportDocumentId")
            try:
                return _Document.model_validate(client.get_report_document(report.reportDocumentId))
            except ValidationError as exc:
                raise AmazonPayloadError(f"getReportDocument answer not understood: {exc}") from exc
        if report.processingStatus == "CANCELLED":
            return None
        if report.processingStatus == "FATAL":
            raise AmazonPayloadError(f"Amazon could not make report {report_id} ({report.reportType}): FATAL")
        if clock() + wait > deadline:
            raise TimeoutError(f"report {report_id} was still {report.processingStatus} after {timeout_s:.0f} s")
        sleep(wait)
        wait = min(MAX_POLL_S, wait * 1.5)


def document_lines(chunks: Iterable[bytes], *, gzipped: bool) -> Iterator[str]:
    """The document's lines (without their ends), decompressed and decoded as they come."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    decode = codecs.getincrementaldecoder("utf-8")(errors="replace")
    rest = ""
    for chunk in chunks:
        rest += decode.decode(inflate.decompress(chunk) if inflate else chunk)
        *lines, rest = rest.split("\n")
        for line in lines:
            yield line.rstrip("\r")
    if inflate is not None:
        rest += decode.decode(inflate.flush())
        if not inflate.eof:
            raise AmazonPayloadError("the report document ends before its gzip stream does")
    rest += decode.decode(b"", final=True)
    if rest.rstrip("\r"):
        yield rest.rstrip("\r")


def listings_rows(lines: Iterable[str]) -> Iterator[ReportedListing]:
    """The report's listings, one per line after the header; a line that does not read
    is an error naming its line number (1 is the header)."""
    it = iter(lines)
    header = next(it, None)
    if header is None:
        return
    names = header.split("\t")
    try:
        sku_at, quantity_at = names.index("seller-sku"), names.index("quantity")
    except ValueError:
        raise AmazonPayloadError(f"the listings report has no seller-sku or quantity column: {names[:8]}") from None
    channel_at = names.index("fulfillment-channel") if "fulfillment-channel" in names else None
    asin_at = names.index("asin1") if "asin1" in names else None
    status_at = names.index("status") if "status" in names else None
    for number, line in enumerate(it, start=2):
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) < len(names):
            cells += [""] * (len(names) - len(cells))
        sku = cells[sku_at].strip()
        if not sku:
            raise AmazonPayloadError(f"listings report line {number}: no seller-sku")
        channel = cells[channel_at].strip() if channel_at is not None else MERCHANT_FULFILLED
        raw = cells[quantity_at].strip()
        if channel != MERCHANT_FULFILLED:
            quantity = 0  # Amazon's own stock: not the seller's to show (as searchListingsItems' DEFAULT)
        else:
            try:
                quantity = int(raw) if raw else 0
            except ValueError:
                raise AmazonPayloadError(f"listings report line {number}, column quantity: {raw!r} "
                                         "is not a whole number") from None
        yield ReportedListing(sku, max(0, quantity), cells[asin_at].strip() or None if asin_at is not None else None,
                              cells[status_at].strip() or None if status_at is not None else None)


def reported_listings(client, report_id: str, **wait) -> Iterator[ReportedListing]:
    """Every listing of report `report_id` (asked for with client.create_report), read
    as the document downloads."""
    document = wait_for_report(client, report_id, **wait)
    if document is None:
        return
    yield from listings_rows(document_lines(client.stream(document.url),
                                            gzipped=document.compressionAlgorithm == "GZIP"))
