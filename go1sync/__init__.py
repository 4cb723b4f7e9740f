"""go1sync's own root: what every layer may import (the error root), and nothing else."""
