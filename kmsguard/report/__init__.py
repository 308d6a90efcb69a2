"""Reports rendered from analysis results."""
