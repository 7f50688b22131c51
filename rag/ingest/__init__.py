"""Ingest: read a report file of any format (`reader`), its metadata (`metadata`), and its
passages with exact offsets (`chunk`)."""
