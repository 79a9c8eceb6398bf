"""Database access: the engine, the models and the session helpers."""
