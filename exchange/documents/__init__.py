"""Documents: official letters and signed PDF bundles for the paper channels, and their desk."""
