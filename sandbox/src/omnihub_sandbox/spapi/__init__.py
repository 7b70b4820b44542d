"""What every simulator of Amazon's Selling Partner API shares: the Seller Central one
(``omnihub_sandbox.amazon``) and the Vendor Central one (``omnihub_sandbox.amazon_vendor``).

Both are SP-API accounts: Login with Amazon tokens (:mod:`.lwa`), usage plans answered
429 with ``x-amzn-RateLimit-Limit`` (:mod:`.usage_plans`, :mod:`.response_headers`),
the ``{"errors": [...]}`` error shape (:mod:`.errors`), a sandbox clock that tests move
(:mod:`.clock`), a SQLite file of their own (:mod:`.sqlite_store`) and the control
levers of time (:mod:`.time_controls`). Written once here so that the two simulators
behave the same where Amazon does; each keeps its own APIs, plans and state.
"""
