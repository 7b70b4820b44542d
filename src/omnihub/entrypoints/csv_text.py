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
