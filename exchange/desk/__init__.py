"""Each user's desk, the start page: what awaits them, section by section for each of their roles."""
