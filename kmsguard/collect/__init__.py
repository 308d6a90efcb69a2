"""Collectors: inputs (a network description, Pulumi resources) → the typed model."""
