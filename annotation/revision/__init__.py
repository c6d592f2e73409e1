"""Does a critique help? A model revises each solution with a source's critique, and the revised answer is graded."""
