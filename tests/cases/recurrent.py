"""Cases for the recurrent family."""
CASES = []
