"""Paper for the official channels: request letters and notices in en, fr and pt rendered to
PDF/A-3b, the signed PDF bundles that carry them, with their verification, and the liaison
officer's desk that builds, dispatches and follows them."""
