"""Cases for the normalization family."""
CASES = []
