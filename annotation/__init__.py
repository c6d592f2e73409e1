"""Redline's domain: traces, judgments, formats, and what people and models do with them."""
