"""Judgments: the one write path (writing) and the one rule for who may see what (visibility)."""
