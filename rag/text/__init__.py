"""Text helpers every stage shares: the one sentence splitter and year pattern (exact offsets),
quantities in Chinese text, token counts, place names by the division dataset."""
