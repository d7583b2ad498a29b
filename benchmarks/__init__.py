"""Benchmarks: ``python benchmarks/run.py [--quick] [--only NAME]`` (see README.md)."""
