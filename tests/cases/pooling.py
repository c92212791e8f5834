"""Cases for the pooling family."""
CASES = []
