"""Property-based tests (hypothesis) for matching, route selection and robustness (DESIGN quality bars)."""
