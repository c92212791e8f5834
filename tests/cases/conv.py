"""Cases for the conv family."""
CASES = []
