"""The Seller Central simulator's usage plans: the defaults published in each operation's
description in amzn/selling-partner-api-models (the "Usage Plan" table), spent through
the shared :class:`~omnihub_sandbox.spapi.usage_plans.RateLimiter`.
"""

from __future__ import annotations

from ..spapi.usage_plans import UsagePlan

#: Published default usage plans of the operations the sandbox serves.
USAGE_PLANS: dict[str, UsagePlan] = {
    # Orders v0
    "getOrders": UsagePlan(0.0167, 20),
    "getOrder": UsagePlan(0.5, 30),
    "getOrderItems": UsagePlan(0.5, 30),
    "getOrderAddress": UsagePlan(0.5, 30),
    "getOrderBuyerInfo": UsagePlan(0.5, 30),
    "confirmShipment": UsagePlan(2, 10),
    # Orders 2026-01-01 (its getOrder is another operation than v0's, with a bucket of its own)
    "searchOrders": UsagePlan(0.0056, 20),
    "getOrder:2026-01-01": UsagePlan(0.5, 30),
    # Listings Items 2021-08-01
    "getListingsItem": UsagePlan(5, 10),
    "searchListingsItems": UsagePlan(5, 5),
    "patchListingsItem": UsagePlan(5, 5),
    # Notifications v1
    "getSubscriptions": UsagePlan(1, 5),
    "getSubscription": UsagePlan(1, 5),
    "createSubscription": UsagePlan(1, 5),
    "getSubscriptionById": UsagePlan(1, 5),
    "deleteSubscriptionById": UsagePlan(1, 5),
    "getDestinations": UsagePlan(1, 5),
    "createDestination": UsagePlan(1, 5),
    "getDestination": UsagePlan(1, 5),
    "deleteDestination": UsagePlan(1, 5),
    # Feeds 2021-06-30
    "createFeedDocument": UsagePlan(0.5, 15),
    "createFeed": UsagePlan(0.0083, 15),
    "getFeed": UsagePlan(2, 15),
    "getFeedDocument": UsagePlan(0.0222, 10),
    # Reports 2021-06-30
    "getReports": UsagePlan(0.0222, 10),
    "createReport": UsagePlan(0.0167, 15),
    "getReport": UsagePlan(2, 15),
    "cancelReport": UsagePlan(0.0222, 10),
    "getReportDocument": UsagePlan(0.0167, 15),
}
