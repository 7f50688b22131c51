"""Evaluation datasets, metrics and runners."""
