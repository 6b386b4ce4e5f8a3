"""Paper for the official channels: request letters and notices in en, fr and pt rendered to
PDF/A-3b, and the signed PDF bundles that carry them, with their verification."""
