"""Running Redline: start-up, backups, and what a database outage looks like."""
