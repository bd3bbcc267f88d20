"""Benchmarks, fault drills and fuzzing against the naive baseline (`make bench`)."""
