"""Amazon Seller Central (SP-API): LWA tokens, usage-plan pacing, order mapping, listings
quantity pushes (patchListingsItem, JSON_LISTINGS_FEED) and notifications."""
