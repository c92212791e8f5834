"""Cases for the models family."""
CASES = []
