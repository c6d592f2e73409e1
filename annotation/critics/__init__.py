"""Model critics: saved configurations, prompt templates, calls through litellm, batch runs.

Only ``calling`` imports litellm (slow to import), and only when a critic is used: the other
modules are safe for pages to import at load time.
"""
