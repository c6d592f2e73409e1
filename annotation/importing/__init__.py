"""Files in: reading, detecting and converting formats, previews, and which server paths may be read."""
