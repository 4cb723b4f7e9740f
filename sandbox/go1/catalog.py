"""Seeded learning objects, My Library membership and user accounts.

Besides a realistic bulk, the edge cases a client must survive sit at seeded positions (see
:func:`sandbox.go1.model.spots`) so that even a tiny seed holds them all: the nine types, every
lifecycle state, content outside the library, unknown and empty language codes, blank or missing
images, zero, fractional or missing durations, no author (the provider is the fallback), a
``<script>`` in one description, odd titles, users with no or an empty email.

Shapes follow the v3 hit of ``GET /learning-objects`` in ``sandbox/contracts/go1-openapi.yml``.
``relevance.author`` is the schema's single ``{name, about}`` object; several authors are joined
into its name ("A, B"). ``core.image`` is absent on a few objects although the schema marks it
required: a defensive client must cope.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sandbox.go1 import vocab
from sandbox.go1.model import DAY_US, PORTAL_ID, Go1Seed, pick_some, spots, stamp, ulid
from sandbox.go1.timefmt import style_for, to_us


def _description(rng: random.Random, subject: str, quirk: str) -> str:
    if quirk == "script":
        return "<p>Interactive demo</p><script>alert('go1')</script><p>Health &amp; Safety</p>"
    if quirk == "empty_description":
        return ""
    if quirk == "plain_description":
        return f"{subject} without any markup."
    first, second = pick_some(rng, vocab.DESCRIPTION_SENTENCES, 2)
    keyword = rng.choice(vocab.KEYWORDS)
    text = f"<p>{first} <strong>{subject}</strong>: {keyword}.</p><p>{second}</p>"
    if rng.random() < 0.3:
        text += "<ul><li>Tips &amp; tricks</li><li>Q&amp;A</li></ul>"
    return text


def _padded(description: str, size: int) -> str:
    """``description`` followed by paragraphs of filler up to ``size`` characters at least."""
    filler = "<p>" + "Practical guidance, worked examples and a short quiz. " * 8 + "</p>"
    missing = max(0, size - len(description))
    return description + filler * -(-missing // len(filler))


def _author(rng: random.Random, quirk: str) -> dict[str, str] | None:
    if quirk == "no_author":
        return None
    if quirk == "empty_author":
        return {"name": "", "about": ""}
    roll = rng.random()
    if quirk != "many_authors" and roll < 0.2:
        return None
    count = 3 if quirk == "many_authors" else (1 if roll < 0.9 else 2)
    names = pick_some(rng, vocab.AUTHORS, count)
    return {"name": ", ".join(names), "about": f"{names[0]} writes and teaches."}


_LO_QUIRKS = (
    "lang_unknown", "lang_empty", "lang_he", "lang_es419", "image_blank", "image_missing",
    "duration_zero", "duration_missing", "duration_fraction", "script", "empty_description",
    "plain_description", "no_author", "empty_author", "many_authors", "odd_title", "no_topics",
)
_LANGUAGE_CODES = [code for code, _ in vocab.LANGUAGES]
_LANGUAGE_WEIGHTS = list(itertools.accumulate(weight for _, weight in vocab.LANGUAGES))
_DURATIONS = {
    "course": (15, 240), "document": (5, 30), "interactive": (10, 45), "text": (3, 15),
    "video": (2, 20), "link": (5, 30), "audio": (10, 60), "playlist": (30, 600), "award": (0, 0),
}


def _learning_object(
    rng: random.Random, lo_id: str, lo_type: str, state: str, quirk: str,
    start_us: int, end_us: int, odd: int,
) -> dict[str, Any]:
    created = start_us - 1095 * DAY_US + int(rng.random() * (1095 * DAY_US + (end_us - start_us)
                                                          * 0.8))
    updated = created + int(rng.random() ** 2 * (end_us - created))
    media = created + int(rng.random() * (updated - created))
    style = style_for(int(lo_id))
    subject = rng.choice(vocab.SUBJECTS)
    if quirk == "odd_title" or rng.random() < 0.04:
        title = vocab.ODD_TITLES[odd % len(vocab.ODD_TITLES)]
    else:
        title = rng.choice(vocab.TITLE_PATTERNS[lo_type]).format(s=subject)
    provider_index = rng.randrange(len(vocab.PROVIDERS))
    provider_name, logo = vocab.PROVIDERS[provider_index]
    core: dict[str, Any] = {
        "creators": ["usr_" + ulid(rng, created // 1000)],
        "type": lo_type,
        "title": title,
        "description": _description(rng, subject, quirk),
        "external_id": f"ext-{lo_id}" if rng.random() < 0.7 else "",
        "provider_id": str(2_160_900 + provider_index),
        "standalone": lo_type != "award",
    }
    if quirk != "image_missing" and rng.random() > 0.01:
        blank = quirk == "image_blank" or rng.random() < 0.03
        core["image"] = {
            "key": f"lo-{lo_id}-thumbnail",
            "value": "" if blank else f"https://res.cdn.example-go1.com/lo/{lo_id}/thumb.jpg",
            "mimetype": "image/jpeg",
        }
    language = {"lang_unknown": "xx-YY", "lang_empty": "", "lang_he": "he",
                "lang_es419": "es-419"}.get(quirk)
    if language is None:
        language = rng.choices(_LANGUAGE_CODES, cum_weights=_LANGUAGE_WEIGHTS)[0]
    low, high = _DURATIONS[lo_type]
    relevance: dict[str, Any] = {
        "language": language,
        "year_created": int(datetime.fromtimestamp(created // 1_000_000, UTC).year),
        "summary": f"A short, practical look at {subject.lower()}.",
        "entry_level": rng.choice(vocab.ENTRY_LEVELS),
        "region": ["GLOBAL"] if rng.random() < 0.8 else ["AU", "GB"],
        "is_compliance": subject in ("GDPR Essentials", "Anti-Bribery", "Fire Safety"),
    }
    if quirk == "duration_zero" or (quirk != "duration_missing" and rng.random() < 0.03):
        relevance["duration"] = 0
    elif quirk == "duration_fraction":
        relevance["duration"] = 7.5
    elif quirk != "duration_missing" and rng.random() > 0.03:
        relevance["duration"] = rng.randint(low, high)
    author = _author(rng, quirk)
    if author is not None:
        relevance["author"] = author
    lifecycle: dict[str, Any] = {"state": state}
    if state in ("retired", "removed"):
        lifecycle["pending_state"] = {f"{state}_time": stamp(updated, style)}
    topic_count = 0 if quirk == "no_topics" else rng.randint(0, 4)
    topics = [{"id": tid, "name": name} for tid, name in pick_some(rng, vocab.TOPICS, topic_count)]
    return {
        "id": "con_" + ulid(rng, created // 1000),
        "lo_id": lo_id,
        "created_time": stamp(created, style),
        "updated_time": stamp(updated, style),
        "updated_media_time": stamp(media, style),
        "updated_metadata_time": stamp(updated, style),
        "core": core,
        "relevance": relevance,
        "lifecycle": lifecycle,
        "provider": {"name": provider_name, "logo": logo, "social_links": []},
        "topics": {"items": topics},
    }


def generate_learning_objects(
    rng: random.Random, seed: Go1Seed
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Learning objects keyed by ``lo_id`` (insertion order = id order) and the library set."""
    n, start_us, end_us = seed.learning_objects, to_us(seed.start), to_us(seed.end)
    types = rng.choices(vocab.ALL_TYPES, weights=vocab.TYPE_WEIGHTS, k=n)
    for position, lo_type in spots(rng, n, vocab.ALL_TYPES).items():
        types[position] = lo_type
    forced_states = spots(rng, n, ("retired", "removed", "draft", "retired", "out_of_library"))
    quirks = spots(rng, n, _LO_QUIRKS)
    objects: dict[str, dict[str, Any]] = {}
    library: set[str] = set()
    lo_number = 36_400_000
    for index in range(n):
        lo_number += rng.randint(1, 40)
        lo_id = str(lo_number)
        roll = rng.random()
        state = "published" if roll < 0.86 else "retired" if roll < 0.92 else (
            "removed" if roll < 0.96 else "draft")
        forced = forced_states.get(index, "")
        if forced in vocab.LIFECYCLE_STATES:
            state = forced
        objects[lo_id] = _learning_object(rng, lo_id, types[index], state,
                                          quirks.get(index, ""), start_us, end_us, index)
        if seed.description_bytes:  # padded without the generator, so the rest stays the same
            core = objects[lo_id]["core"]
            core["description"] = _padded(core["description"], seed.description_bytes)
        if forced == "out_of_library":
            types[index] = "course"
            objects[lo_id]["core"]["type"] = "course"
            objects[lo_id]["lifecycle"] = {"state": "published"}
        elif rng.random() < 0.85:
            library.add(lo_id)
    return objects, library


def _ascii(text: str) -> str:
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in flat if ch.isalnum())


def generate_users(rng: random.Random, seed: Go1Seed) -> dict[str, dict[str, Any]]:
    """User accounts keyed by id; a few upper-case emails, one without and one with an empty one."""
    start_us = to_us(seed.start)
    quirks = spots(rng, seed.users, ("no_email", "empty_email", "upper_email", "inactive"))
    taken: dict[str, int] = {}
    users: dict[str, dict[str, Any]] = {}
    number = 14_000_000
    for index in range(seed.users):
        number += rng.randint(1, 20)
        uid = str(number)
        given, family = rng.choice(vocab.GIVEN_NAMES), rng.choice(vocab.FAMILY_NAMES)
        local = f"{_ascii(given)}.{_ascii(family)}".lower()
        taken[local] = taken.get(local, 0) + 1
        if taken[local] > 1:
            local += str(taken[local])
        email = f"{local}@{rng.choice(vocab.EMAIL_DOMAINS)}"
        quirk = quirks.get(index, "")
        if quirk == "upper_email" or rng.random() < 0.05:
            name, domain = email.split("@")
            email = ".".join(part.capitalize() for part in name.split(".")) + "@" + domain.upper()
        person: dict[str, Any] = {"email": email, "given_name": given, "family_name": family}
        if quirk == "no_email":
            del person["email"]
        elif quirk == "empty_email":
            person["email"] = ""
        created = start_us - int(rng.random() * 700 * DAY_US)
        style = style_for(number)
        users[uid] = {
            "id": uid,
            "portal_id": PORTAL_ID,
            "status": "inactive" if quirk == "inactive" or rng.random() < 0.04 else "active",
            "roles": ["Administrator"] if index == 0 else ["Learner"],
            "created_time": stamp(created, style),
            "updated_time": stamp(created + int(rng.random() * 300 * DAY_US), style),
            "user": person,
        }
    return users


