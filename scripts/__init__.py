"""Developer scripts: the README generator, the report screenshot."""
