"""Benchmarks behind `omnihub bench ...`: each writes JSON and reports peak RSS."""
