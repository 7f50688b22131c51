"""Retrieve: what a question asks (`query`: places, years, scope, terms), hybrid search with
fusion and reranking (`retriever`), and the evidence score of a passage (`support`)."""
