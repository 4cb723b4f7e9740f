"""The project's models folder, loading it with the mapping's settings, and the synced types.

The transform stage is :func:`warehouse.models.run_project` over this project; the commands
(``commands.transform``, ``commands.run``) run it inside their session.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from importlib import metadata
from pathlib import Path

from go1sync.settings import Config
from warehouse.models import Project, load_project


def _models_dir() -> Path:
    """``models/`` of the checkout, or the copy an installed wheel carries as package data
    (``go1sync/models``): the same files, found either way."""
    checkout = Path(__file__).resolve().parents[1] / "models"
    if (checkout / "seeds").is_dir():
        return checkout
    import go1sync

    return Path(go1sync.__file__).resolve().parent / "models"


MODELS_DIR = _models_dir()


def project_for(config: Config, models_dir: Path = MODELS_DIR) -> Project:
    """The models, rendered with the settings they read (``var()``: the portal URL, the
    fallback language); checked before anything runs, so a bad model fails at once."""
    return load_project(models_dir, variables=config.model_variables())


def models_digest(config: Config, models_dir: Path = MODELS_DIR) -> str:
    """A hash of everything the models' fingerprints derive from, read without rendering:
    the model and seed files, the variables they read, the code that renders and
    fingerprints them, and the versions of sqlglot and jinja2.

    Equal digests mean equal fingerprints, so a quiet run can tell its models are those of
    the last settled run from a few file reads (milliseconds) instead of loading the project
    (about a second: jinja2 and sqlglot over every model)."""
    digest = hashlib.sha256()
    code = Path(__file__).resolve().parent / "models"
    files = [*(p for p in sorted(models_dir.rglob("*"))
               if p.suffix in (".sql", ".csv") and p.is_file()
               and not any(part.startswith(".") for part in p.relative_to(models_dir).parts)),
             *sorted(code.glob("*.py"))]
    for path in files:
        label = path.relative_to(models_dir) if path.is_relative_to(models_dir) else path.name
        digest.update(f"{label}\0".encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps({"variables": config.model_variables(),
                              "sqlglot": metadata.version("sqlglot"),
                              "jinja2": metadata.version("jinja2")},
                             sort_keys=True, default=str).encode())
    return digest.hexdigest()


@functools.cache
def synced_types(models_dir: Path = MODELS_DIR) -> tuple[str, ...]:
    """The Go1 types the integration syncs: the rows of the seed ``content_type_map`` that have
    a 360Learning content type (the seed is the one owner; the extract asks Go1 for these)."""
    with (models_dir / "seeds" / "content_type_map.csv").open(encoding="utf-8") as file:
        return tuple(row["go1_type"] for row in csv.DictReader(file) if row["content_type"])
