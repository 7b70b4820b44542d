"""Reports: GET_MERCHANT_LISTINGS_ALL_DATA from createReport to the downloaded document,
every request and answer held to Amazon's official Reports model (reports_2021-06-30.json)
where the shared contracts carry it (today they do not: the behaviour is tested alone)."""

from __future__ import annotations

import gzip


from amazon_sandbox_harness import MARKETPLACE, Seller
from shared_contracts import shared_path
from spapi_contract import assert_response as held_to_model
from spapi_contract import body_errors as model_body_errors

M = "reports_2021-06-30.json"
BASE = "/reports/2021-06-30"


# Amazon's Reports model is not among the shared contracts today: where it is (a developer
# who adds it), every answer is held to it; elsewhere the behaviour is still tested.
HAVE_MODEL = shared_path("contracts", "amazon", "models", M) is not None


def assert_response(model: str, operation: str, answer):
    if HAVE_MODEL:
        return held_to_model(model, operation, answer)
    return answer.json() if answer.content else {}


def body_errors(model: str, operation: str, body) -> list:
    return model_body_errors(model, operation, body) if HAVE_MODEL else []


def create(seller: Seller, spec: dict | None = None) -> str:
    spec = spec or {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [MARKETPLACE]}
    assert not body_errors(M, "createReport", spec)
    answer = seller.call("POST", f"{BASE}/reports", json=spec)
    assert answer.status_code == 202, answer.text
    return assert_response(M, "createReport", answer)["reportId"]


def get(seller: Seller, report_id: str) -> dict:
    return assert_response(M, "getReport", seller.call("GET", f"{BASE}/reports/{report_id}"))


def rows(seller: Seller, report: dict) -> tuple[list[str], list[dict]]:
    doc = assert_response(M, "getReportDocument", seller.call("GET", f"{BASE}/documents/{report['reportDocumentId']}"))
    raw = seller.http.get(doc["url"]).content
    text = (gzip.decompress(raw) if doc.get("compressionAlgorithm") == "GZIP" else raw).decode("utf-8")
    lines = text.rstrip("\n").split("\n")
    header = lines[0].split("\t")
    return header, [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def test_the_listings_report_is_made_in_time_and_lists_every_listing(seller: Seller, clock) -> None:
    a = seller.listings()[0]["sku"]
    seller.set_quantity(a, 0)
    report_id = create(seller)
    report = get(seller, report_id)
    assert report["processingStatus"] == "IN_QUEUE" and "reportDocumentId" not in report
    clock.advance(1.5)
    assert get(seller, report_id)["processingStatus"] == "IN_PROGRESS"
    seller.set_quantity(a, 7)  # before the report is made: in it
    clock.advance(2)
    report = get(seller, report_id)
    assert report["processingStatus"] == "DONE" and report["processingEndTime"] >= report["processingStartTime"]
    seller.set_quantity(a, 9)  # after: not in it (a snapshot)
    header, listed = rows(seller, report)
    assert {"seller-sku", "quantity", "asin1", "fulfillment-channel", "status"} <= set(header)
    shown = {r["sku"]: r["quantity"] for r in seller.listings()}
    assert len(listed) == len(shown) == 20
    by_sku = {r["seller-sku"]: r for r in listed}
    assert by_sku[a]["quantity"] == "7" and by_sku[a]["status"] == "Active"
    assert all(int(r["quantity"]) == shown[s] for s, r in by_sku.items() if s != a)
    assert {r["fulfillment-channel"] for r in listed} == {"DEFAULT"}


def test_documents_are_gzip_or_plain_as_configured(make_config, clock) -> None:
    from amazon_sandbox_harness import TestClient, create_app

    app = create_app(make_config(report_compression=None))
    seller = Seller(TestClient(app, base_url="http://sandbox.test"), app.state.sandbox.config)
    try:
        report_id = create(seller)
        clock.advance(5)
        report = get(seller, report_id)
        doc = assert_response(M, "getReportDocument", seller.call("GET", f"{BASE}/documents/{report['reportDocumentId']}"))
        assert "compressionAlgorithm" not in doc
        assert seller.http.get(doc["url"]).text.startswith("item-name\t")
    finally:
        app.state.sandbox.store.close()


def test_refusals_are_in_amazons_shape(seller: Seller, clock) -> None:
    for spec in ({"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA"},  # no marketplace
                 {"reportType": "GET_FLAT_FILE_OPEN_LISTINGS_DATA", "marketplaceIds": [MARKETPLACE]},
                 {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": ["A1PA6795UKMFR9"]}):
        answer = seller.call("POST", f"{BASE}/reports", json=spec)
        assert answer.status_code == 400
        assert_response(M, "createReport", answer)
    assert_response(M, "getReport", seller.call("GET", f"{BASE}/reports/99999"))  # 404, ErrorList
    assert seller.call("GET", f"{BASE}/reports/99999").status_code == 404
    assert seller.call("GET", f"{BASE}/documents/not-a-document").status_code == 400


def test_reports_are_listed_and_a_queued_one_cancelled(seller: Seller, clock) -> None:
    first, second, third = create(seller), create(seller), create(seller)
    assert seller.call("DELETE", f"{BASE}/reports/{third}").status_code == 200
    assert get(seller, third)["processingStatus"] == "CANCELLED"
    clock.advance(5)
    refused = seller.call("DELETE", f"{BASE}/reports/{first}")  # DONE now: too late
    assert refused.status_code == 400
    page = assert_response(M, "getReports", seller.call("GET", f"{BASE}/reports", params={
        "reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "pageSize": "2"}))
    assert [r["reportId"] for r in page["reports"]] == [first, second] and page["nextToken"]
    rest = assert_response(M, "getReports", seller.call("GET", f"{BASE}/reports",
                                                        params={"nextToken": page["nextToken"]}))
    assert [r["reportId"] for r in rest["reports"]] == [third] and "nextToken" not in rest
    done = assert_response(M, "getReports", seller.call("GET", f"{BASE}/reports", params={
        "reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "processingStatuses": "DONE"}))
    assert [r["reportId"] for r in done["reports"]] == [first, second]
    assert seller.call("GET", f"{BASE}/reports").status_code == 400  # reportTypes or nextToken


def test_an_empty_catalogue_is_cancelled_not_done(make_config, clock) -> None:
    from amazon_sandbox_harness import TestClient, create_app

    app = create_app(make_config(catalog_size=0))
    seller = Seller(TestClient(app, base_url="http://sandbox.test"), app.state.sandbox.config)
    try:
        report_id = create(seller)
        clock.advance(5)
        report = get(seller, report_id)
        assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report
    finally:
        app.state.sandbox.store.close()
