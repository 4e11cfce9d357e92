"""Consistency checks: contrast pairs, self-consistency, transitivity, biases."""
