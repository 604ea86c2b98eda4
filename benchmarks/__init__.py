"""Benchmarks: each script prints its figures; none of them is a test."""
