"""The text of a CSV file that came from outside the hub (an ERP export, a spreadsheet),
for the CLI and the API alike.

Accepted: UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" writes one), and
UTF-16 with a byte-order mark, little or big endian (Excel's "Unicode Text"). Nothing
else is guessed at: a file in a legacy code page, or UTF-16 without its mark, is refused
with one sentence that says what to do, rather than imported as mojibake. UTF-16 without
a BOM would even pass as UTF-8 (ASCII text with a NUL after every letter), so text that
holds NUL characters is refused too.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
SAVE_AS = "save it as CSV UTF-8 (or UTF-16 with a byte-order mark) and try again"


class CsvEncodingError(ValueError):
    """The bytes are not text in an encoding the hub reads."""

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset  # bytes before the one that could not be read (0-based), when there is one


def decode_csv(raw: bytes, *, name: str = "the file") -> str:
    """The file's text, without its byte-order mark; CsvEncodingError otherwise."""
    sniff_binary(raw, name=name)
    encoding, body = "utf-8", raw
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            encoding, body = enc, raw[len(bom):]
            break
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        at = exc.start + len(raw) - len(body)
        what = "UTF-8" if encoding == "utf-8" else f"{encoding.upper()} (from its byte-order mark)"
        raise CsvEncodingError(f"{name} is not {what} text (the byte at offset {at} cannot be read): {SAVE_AS}",
                               offset=at) from None
    if "\x00" in text:
        raise CsvEncodingError(f"{name} holds NUL characters (UTF-16 without a byte-order mark?): {SAVE_AS}")
    return text


# -- files too large to hold: checked in one streaming pass, then read line by line ---------

#: what other files begin with: a spreadsheet saved as is, or an archive, is refused by name
#: rather than as "not UTF-8 text at offset 10"
_MAGIC = (
    (b"PK\x03\x04", "a spreadsheet or zip archive (xlsx, ods or zip), not CSV text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a spreadsheet in Excel's old binary format (xls), not CSV text"),
    (b"\x1f\x8b", "compressed (gzip), not CSV text"),
    (b"%PDF", "a PDF document, not CSV text"),
)
_BLOCK = 1 << 20  # bytes read at a time: memory stays flat whatever the file's size
#: control characters no CSV holds (tab, line feed, carriage return and form feed excepted)
_CONTROL = frozenset(chr(c) for c in range(32) if c not in (9, 10, 12, 13)) | {"\x7f"}


def sniff_binary(head: bytes, *, name: str = "the file") -> None:
    """CsvEncodingError if the file's first bytes say it is a spreadsheet, an archive or
    some other binary file."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise CsvEncodingError(f"{name} is {what}: {SAVE_AS}", offset=0)


@dataclass(frozen=True, slots=True)
class CsvFile:
    """What one streaming pass learnt of a CSV file: it is text the hub reads (else
    CsvEncodingError), its encoding, and what identifies it (size, SHA-256 of the bytes)."""

    name: str
    size: int
    sha256: str
    encoding: str
    bom: int  # bytes of byte-order mark before the text
    line_breaks: int = 0  # "\n" characters in the text: a bound on its rows

    def lines(self, raw: BinaryIO) -> Iterator[str]:
        """The text of `raw` (the same file, opened binary) line by line, decoded as it is
        read: lines end at "\\n" only and keep it (as a StringIO of the whole text gave
        them to the csv module), so a quoted field may span lines."""
        raw.seek(self.bom)
        text = io.TextIOWrapper(raw, encoding=self.encoding, errors="strict", newline="\n")
        try:
            yield from text
        finally:
            try:
                text.detach()  # the caller's file stays open (and is the caller's to close)
            except ValueError:  # it was closed first (a reader that stopped early, collected later)
                pass


def inspect_csv(raw: BinaryIO, *, name: str = "the file", block: int = _BLOCK) -> CsvFile:
    """Read `raw` once, a block at a time: refuse a spreadsheet, a binary file or text in
    another encoding with one sentence (naming the line and byte at fault), before any of
    it is used; hash it. Nothing of it is kept."""
    head = raw.read(block)
    sniff_binary(head, name=name)
    encoding, bom = "utf-8", 0
    for mark, enc in _BOMS:
        if head.startswith(mark):
            encoding, bom = enc, len(mark)
            break
    digest = hashlib.sha256(head)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    consumed, lines, chunk, first = 0, 1, head[bom:], True  # consumed: bytes of text decoded before `chunk`
    while True:
        pending = len(decoder.getstate()[0])  # bytes of a character the last block cut in two
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            at = bom + consumed - pending + exc.start
            if any(b < 32 and b not in (9, 10, 12, 13) for b in head[:4096]):
                raise CsvEncodingError(f"{name} is a binary file, not CSV text: {SAVE_AS}", offset=at) from None
            line = lines + exc.object[:exc.start].decode(encoding, errors="ignore").count("\n")
            what = "UTF-8" if encoding == "utf-8" else f"{encoding.upper()} (from its byte-order mark)"
            hint = " (Latin-1, Windows-1252 or another legacy code page?)" if encoding == "utf-8" else ""
            raise CsvEncodingError(f"{name} is not {what} text{hint}: the byte at offset {at} (line {line}) "
                                   f"cannot be read; {SAVE_AS}", offset=at) from None
        if "\x00" in text:
            raise CsvEncodingError(f"{name} holds NUL characters (a binary file, or UTF-16 without a byte-order "
                                   f"mark?): {SAVE_AS}")
        if first and any(c in _CONTROL for c in text[:4096]):
            raise CsvEncodingError(f"{name} is a binary file, not CSV text: {SAVE_AS}", offset=0)
        lines += text.count("\n")
        consumed += len(chunk)
        first = False
        if not chunk:
            break
        chunk = raw.read(block)
        digest.update(chunk)
    return CsvFile(name, consumed + bom, digest.hexdigest(), encoding, bom, lines - 1)
