"""Work on traces: the queue, annotating, checking critiques, settling disagreements."""
