"""Cases for the locally_connected family."""
CASES = []
