"""Reports the hub writes to files for people (the daily multi-marketplace report)."""
