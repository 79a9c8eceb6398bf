"""Discord-free rules: one module per capability, tested without Discord."""
