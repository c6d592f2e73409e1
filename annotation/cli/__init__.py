"""`python -m annotation ...`: the command line, one module per command group."""
