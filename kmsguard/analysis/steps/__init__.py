"""The stages of the KMS path after DNS, one module per hop kind: each turns what the analysis
decides there into trace steps (``verdict.Step``) on the hop it happens on."""
