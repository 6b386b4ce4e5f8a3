"""Paper for the official channels: request letters, signed PDF bundles and their verification."""
