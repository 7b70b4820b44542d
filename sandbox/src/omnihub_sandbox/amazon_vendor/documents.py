"""The documents Amazon hands a direct-fulfilment vendor: shipping labels and packing slips.

A label is ZPL (what a warehouse's thermal printer takes) naming the carrier, the
tracking number, the ship-from warehouse and the shopper's address; a packing slip is a
one-page PDF listing the order's lines (and its gift message). Both travel base64-encoded
in the API's ``content`` fields. Tracking numbers come from the seed, so a replayed
sandbox prints the same labels.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

SHIP_METHOD_NAMES = {
    "UPS_GR_RES": "UPS Ground Residential", "UPS_NEXT": "UPS Next Day Air", "FEDEX_HOME": "FedEx Home Delivery",
    "USPS_PRIORITY": "USPS Priority Mail",
}


def tracking_number(seed: int, po_number: str, package: int) -> str:
    digest = hashlib.sha256(f"{seed}:tracking:{po_number}:{package}".encode()).hexdigest().upper()
    return "1Z" + digest[:16]


def label_zpl(po_number: str, tracking: str, ship_method: str, warehouse: str, ship_to: dict[str, Any]) -> str:
    lines = [ship_to.get("name", ""), ship_to.get("addressLine1", ""), ship_to.get("addressLine2", ""),
             f"{ship_to.get('city', '')} {ship_to.get('stateOrRegion', '')} {ship_to.get('postalCode', '')}",
             ship_to.get("countryCode", "")]
    fields = "".join(f"^FO50,{150 + 40 * n}^A0N,30,30^FD{text}^FS" for n, text in enumerate(t for t in lines if t))
    zpl = (f"^XA^FO50,40^A0N,40,40^FD{SHIP_METHOD_NAMES.get(ship_method, ship_method)}^FS"
           f"^FO50,90^A0N,25,25^FDFrom {warehouse}  PO {po_number}^FS{fields}"
           f"^FO50,420^BY3^BCN,120,Y,N,N^FD{tracking}^FS^XZ")
    return base64.b64encode(zpl.encode()).decode()


def _pdf_text(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def packing_slip_pdf(lines: list[str]) -> str:
    """A one-page PDF with `lines` of text, base64-encoded."""
    text = "BT /F1 11 Tf 50 750 Td 16 TL " + " ".join(f"({_pdf_text(line)}) Tj T*" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text.encode('latin-1'))} >>\nstream\n{text}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return base64.b64encode(out).decode()
