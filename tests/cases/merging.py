"""Cases for the merging family."""
CASES = []
