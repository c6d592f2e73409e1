"""The model every feature shares: the canonical trace and judgment, errors, and their rows."""
