"""Reproducible training pipeline of the docliveness liveness model."""
