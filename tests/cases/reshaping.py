"""Cases for the reshaping family."""
CASES = []
