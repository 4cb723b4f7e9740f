"""Local stand-ins of the APIs go1sync talks to, with seeded data and fault knobs (tests only)."""
