"""Orders and their life cycle."""
