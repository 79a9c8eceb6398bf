"""Discord-facing extensions, one per capability; every module here is loaded at start."""
