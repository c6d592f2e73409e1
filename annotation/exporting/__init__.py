"""Training data out: selecting labels, the output formats, writers and dataset cards."""
