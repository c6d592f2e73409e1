"""Projects: their settings, traces, overviews and the demo."""
