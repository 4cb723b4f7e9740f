"""The project's models folder, loading it with the mapping's settings, and the synced types.

The transform stage is :func:`warehouse.models.run_project` over this project; the commands
(``commands.transform``, ``commands.run``) run it inside their session.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from go1sync.settings import Config
from warehouse.models import Project, load_project, source_digest


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
    """The models' version as a quiet run compares it (:func:`warehouse.models.source_digest`),
    with the variables :func:`project_for` renders them with."""
    return source_digest(models_dir, config.model_variables())


@functools.cache
def synced_types(models_dir: Path = MODELS_DIR) -> tuple[str, ...]:
    """The Go1 types the integration syncs: the rows of the seed ``content_type_map`` that have
    a 360Learning content type (the seed is the one owner; the extract asks Go1 for these)."""
    with (models_dir / "seeds" / "content_type_map.csv").open(encoding="utf-8") as file:
        return tuple(row["go1_type"] for row in csv.DictReader(file) if row["content_type"])
