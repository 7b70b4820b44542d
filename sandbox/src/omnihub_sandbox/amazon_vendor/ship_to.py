"""Where Amazon's shoppers live: seeded US addresses for direct-fulfilment orders.

Direct-fulfilment purchase orders carry the shopper's address (the vendor ships to it),
so each order gets one, drawn from the seed and the order's number: the same sandbox
always ships the same order to the same door.
"""

from __future__ import annotations

import random
from typing import Any

_NAMES = ["Ana Lima", "Ben Okafor", "Chloe Martin", "Dev Patel", "Eva Novak", "Femi Adeyemi", "Grace Kim",
          "Hugo Silva", "Iris Chen", "Jon Berg", "Kara Singh", "Luis Ortega"]
_STREETS = ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Park Blvd", "Lake Rd", "Hill St"]
_PLACES = [  # city, state, postal code
    ("New York", "NY", "10001"), ("Brooklyn", "NY", "11211"), ("Boston", "MA", "02118"),
    ("Philadelphia", "PA", "19103"), ("Chicago", "IL", "60614"), ("Austin", "TX", "78701"),
    ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"), ("San Jose", "CA", "95112"),
    ("Los Angeles", "CA", "90012"), ("Miami", "FL", "33130"), ("Atlanta", "GA", "30303"),
]


def shopper_address(seed: int, po_number: str) -> dict[str, Any]:
    """An ``Address`` as the Direct Fulfillment Orders model draws it."""
    rng = random.Random(f"amazon-vendor-address:{seed}:{po_number}")
    city, state, postal = rng.choice(_PLACES)
    address = {"name": rng.choice(_NAMES), "addressLine1": f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
               "city": city, "stateOrRegion": state, "postalCode": postal, "countryCode": "US",
               "phone": f"+1 555 01{rng.randint(0, 99):02d}"}
    if rng.random() < 0.3:
        address["addressLine2"] = f"Apt {rng.randint(1, 40)}"
    return address
