"""Videos for Chromium's fake camera (`--use-file-for-fake-video-capture=FILE.y4m`): a
barcode or a QR code printed black on white in the middle of every frame, written as
YUV4MPEG2 (4:2:0), the raw format Chromium plays in a loop as the camera's picture.

The EAN-13 bars are drawn here from the standard's tables (GS1 General Specifications
5.2: the L, G and R sets, and the parity of the first digit), so the test owes the
barcode to no library; a QR code is given as its rows of modules (`qr_rows`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

WIDTH, HEIGHT = 640, 480
BLACK, WHITE, GREY = 16, 235, 128  # luma of ink and paper; chroma neutral

_L = ("0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011")
_R = tuple("".join("1" if b == "0" else "0" for b in code) for code in _L)
_G = tuple(code[::-1] for code in _R)
_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")


def check_digit(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def ean13_modules(code: str) -> str:
    """The 95 modules (1 = bar) of an EAN-13, or of a UPC-A (a 0 before its 12 digits)."""
    digits = code if len(code) == 13 else "0" + code
    if len(digits) != 13 or not digits.isdigit() or check_digit(digits[:12]) != digits[12]:
        raise ValueError(f"{code!r} is not an EAN-13 or UPC-A with its check digit")
    parity = _PARITY[int(digits[0])]
    left = "".join((_L if p == "L" else _G)[int(d)] for p, d in zip(parity, digits[1:7]))
    right = "".join(_R[int(d)] for d in digits[7:])
    return "101" + left + "01010" + right + "101"


def _frame(dark) -> bytes:
    """One 4:2:0 frame whose luma is ink where `dark(x, y)`, paper elsewhere."""
    luma = bytearray([WHITE]) * (WIDTH * HEIGHT)
    for y in range(HEIGHT):
        row = y * WIDTH
        for x in range(WIDTH):
            if dark(x, y):
                luma[row + x] = BLACK
    chroma = bytes([GREY]) * ((WIDTH // 2) * (HEIGHT // 2))
    return bytes(luma) + chroma + chroma


def write_y4m(path: Path, frame: bytes, frames: int = 6) -> Path:
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(frame)
    return path


def barcode_video(path: Path, code: str, module_px: int = 4) -> Path:
    """A video of the EAN-13 (or UPC-A) `code`, bars `module_px` wide, quiet zones around."""
    modules = ean13_modules(code)
    left = (WIDTH - len(modules) * module_px) // 2
    top, bottom = HEIGHT // 4, HEIGHT * 3 // 4

    def dark(x: int, y: int) -> bool:
        i = (x - left) // module_px
        return top <= y < bottom and 0 <= x - left and i < len(modules) and modules[i] == "1"

    return write_y4m(path, _frame(dark))


def qr_video(path: Path, rows: Sequence[str], module_px: int = 8) -> Path:
    """A video of a QR code given as its rows of modules ("1" dark), quiet zone included."""
    size = len(rows) * module_px
    left, top = (WIDTH - size) // 2, (HEIGHT - size) // 2

    def dark(x: int, y: int) -> bool:
        cx, cy = (x - left) // module_px, (y - top) // module_px
        return 0 <= x - left < size and 0 <= y - top < size and rows[cy][cx] == "1"

    return write_y4m(path, _frame(dark))
