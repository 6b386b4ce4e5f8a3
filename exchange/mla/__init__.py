"""Mutual legal assistance requests: request types, drafting, lifecycle, messages, tracking."""
