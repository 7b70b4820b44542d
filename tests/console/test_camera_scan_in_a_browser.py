"""The camera's Scan button in a real browser: Debian's Chromium with a fake camera that
plays a video of a code (`--use-file-for-fake-video-capture`), so the page's own script
opens the camera, reads the frames and fills the field, as on a phone: an EAN-13 / UPC-A
into the SKU field of the receive and count screens, a customer's QR code into the code
field of the hand-over. Headless Chromium on Linux has no native BarcodeDetector for
these formats: the vendored ZXing reads them, as it will on any phone without one.

Chromium is launched here with the camera's flags (the module's own Playwright, not the
shared `chromium` fixture, whose browser has no camera)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.console.camera_video import barcode_video, qr_video
from tests.console.conftest import CHROMIUM
from tests.console.test_console_in_a_browser import Person
from tests.console.test_store_associate_in_a_browser import UPC, _order, _states, estate  # noqa: F401

ZXING = Path(__file__).parents[2] / "src/omnihub/entrypoints/console/static/vendor/zxing-library-0.23.0.min.js"


def _launch_args(video: Path | None = None) -> list[str]:
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    if video is not None:
        args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-video-capture={video}"]
    return args


@contextmanager
def launcher() -> Iterator:
    """launch(video=None): a Chromium, whose camera plays `video` when one is given."""
    if not CHROMIUM.exists():
        if os.environ.get("OMNIHUB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"OMNIHUB_REQUIRE_BROWSER=1 and no Chromium at {CHROMIUM}", pytrace=False)
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browsers: list = []

        def launch(video: Path | None = None):
            browsers.append(p.chromium.launch(executable_path=str(CHROMIUM), args=_launch_args(video)))
            return browsers[-1]

        try:
            yield launch
        finally:
            for b in browsers:
                b.close()


def _qr_rows(browser, text: str) -> list[str]:
    """The modules of a QR code of `text`, made by the vendored ZXing's QR writer in a
    blank page (what the test checks is the reading of the camera's picture of it)."""
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><title>qr</title>")
        page.add_script_tag(path=str(ZXING))
        return page.evaluate("""(text) => {
            const m = new ZXing.QRCodeWriter().encode(text, ZXing.BarcodeFormat.QR_CODE, 0, 0, new Map());
            const rows = [];
            for (let y = 0; y < m.getHeight(); y++) {
                let row = "";
                for (let x = 0; x < m.getWidth(); x++) row += m.get(x, y) ? "1" : "0";
                rows.push(row);
            }
            return rows;
        }""", text)
    finally:
        page.close()


def test_the_camera_reads_a_barcode_into_the_sku_field(estate, artefacts, tmp_path):  # noqa: F811
    hub, base = estate
    video = barcode_video(tmp_path / "upc.y4m", UPC)
    with launcher() as launch:
        sam = Person(launch(video), base, artefacts, phone=True)
        sam.context.grant_permissions(["camera"], origin=base)
        sam.sign_in("sam@shop.example")
        sam.page.goto("/console/store/BKN/receive")
        field = sam.page.get_by_label("SKU or barcode")
        assert field.input_value() == ""
        sam.page.get_by_role("button", name="Scan a barcode with the camera").click()
        expect(field).to_have_value(UPC, timeout=20_000)  # read off the camera's picture, not typed
        expect(sam.page.locator("#code-scan-status")).to_have_text(f"Scanned {UPC}.")
        assert sam.page.locator(".scanner").count() == 0  # the camera closed itself
        expect(field).to_be_focused()
        sam.shot("receive-scanned-phone")
        sam.page.get_by_label("Units received").fill("2")
        sam.page.get_by_role("button", name="Receive").click()
        assert "Received 2 × MUG-BLUE" in sam.page.locator("#receipt").inner_text()
        sam.page.goto("/console/store/BKN/count")  # the count screen scans the same way
        sam.page.get_by_role("button", name="Scan a barcode with the camera").click()
        expect(sam.page.get_by_label("SKU or barcode")).to_have_value(UPC, timeout=20_000)
        sam.close()
    assert hub.queries.positions("MUG-BLUE")["BKN"].on_hand == 6


def test_the_camera_reads_the_customer_s_qr_code_at_the_hand_over(estate, artefacts, tmp_path):  # noqa: F811
    hub, base = estate
    pickup = _order(hub, ("BOWL", 1), delivery_method="curbside", pickup_location="BKN")
    assert hub.picking.pick(pickup, "BKN", {}).state == "picked"  # ready: its code issued
    code = hub.pickups.status(pickup)["code"]
    with launcher() as launch:
        video = qr_video(tmp_path / "qr.y4m", _qr_rows(launch(), code))
        sam = Person(launch(video), base, artefacts, phone=True)
        sam.context.grant_permissions(["camera"], origin=base)
        sam.sign_in("sam@shop.example")
        sam.page.goto(f"/console/store/BKN/pickups/{pickup}")
        assert sam.page.locator(".tag.curbside").first.is_visible()
        field = sam.page.get_by_label("Pickup code")
        assert field.input_value() == ""
        sam.page.get_by_role("button", name="Scan the customer's QR code").click()
        expect(field).to_have_value(code, timeout=20_000)
        sam.shot("pickup-scanned-phone")
        sam.page.get_by_role("button", name="Hand over").click()
        assert "Order handed over" in sam.page.locator("#handed-over").inner_text()
        sam.close()
    assert _states(hub, pickup) == [("BKN", "picked_up")]
