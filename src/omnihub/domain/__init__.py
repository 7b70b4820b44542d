"""The domain core: pure rules of stock, ATP, orders and routing (no I/O)."""
