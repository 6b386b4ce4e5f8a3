"""Official documents: request letters and notices in en, fr and pt, rendered to PDF/A-3b."""
