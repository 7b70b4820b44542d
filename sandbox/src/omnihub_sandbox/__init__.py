"""omnihub-sandbox: faithful simulators of the sales channels omnihub connects to
(Shopify, Amazon), one package per channel, for the demo, the benchmarks and the tests.

A distribution of its own so that a production install of omnihub carries none of it.
The simulators meet the hub only over HTTP: nothing here imports omnihub, and omnihub
serves them through `omnihub_sandbox.serving`.
"""
