"""Retrieval-augmented Q&A over Chinese 法治政府建设 reports."""

__version__ = "0.1.0"
