"""Seeded, deterministic Go1 portal data: the one entry point, :func:`generate`.

One ``random.Random(seed)`` drives everything, so the same :class:`Go1Seed` always yields the
same JSON (tests compare warehouse rows against these objects). What each part holds, and which
edge cases it plants, is described in :mod:`sandbox.go1.catalog` and :mod:`sandbox.go1.enrollgen`.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager

from sandbox.go1.catalog import generate_learning_objects, generate_users
from sandbox.go1.enrollgen import generate_enrollments
from sandbox.go1.model import Enrollment, Go1Dataset, Go1Seed

__all__ = ["Enrollment", "Go1Dataset", "Go1Seed", "gc_paused", "generate"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while building: a million new container objects would
    trigger many full collections that find nothing (they cost a third of the build time)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def generate(seed: Go1Seed) -> Go1Dataset:
    """Build the whole data set for a seed: learning objects, library, users, enrollments."""
    rng = random.Random(seed.seed)
    with gc_paused():
        objects, library = generate_learning_objects(rng, seed)
        users = generate_users(rng, seed)
        active, archived, deleted = generate_enrollments(rng, seed, objects, library, users)
    return Go1Dataset(objects, library, users, active, archived, deleted)
