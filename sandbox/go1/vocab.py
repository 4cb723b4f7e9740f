"""Word lists the Go1 generator draws from.

Kept apart from the generator so that its logic stays readable. The lists deliberately carry the
awkward values real portals have: unicode and quotes in titles, an apostrophe and an ampersand in
a provider name, language codes 360Learning has no direct equivalent for, an unknown code and an
empty one.
"""

from __future__ import annotations

#: every type a Go1 portal can hold; only the first seven are synchronised by the product
SYNCED_TYPES = ("course", "document", "interactive", "text", "video", "link", "audio")
ALL_TYPES = (*SYNCED_TYPES, "playlist", "award")
#: how common each type is, in ALL_TYPES order
TYPE_WEIGHTS = (30, 8, 10, 8, 20, 8, 5, 7, 4)

LIFECYCLE_STATES = ("draft", "published", "retired", "removed")

#: (language, weight); "xx-YY" is not a real code and "" is what an unset language looks like
LANGUAGES = (
    ("en", 40), ("en-US", 15), ("en-GB", 8), ("fr", 8), ("fr-CA", 3), ("pt-BR", 4),
    ("zh-TW", 2), ("he", 2), ("es-419", 3), ("es", 4), ("de", 4), ("xx-YY", 1), ("", 1),
)

SUBJECTS = (
    "Excel Pivot Tables", "Agile Leadership", "Workplace Safety", "Cyber Security Basics",
    "Customer Service", "Time Management", "Python for Analysts", "Conflict Resolution",
    "GDPR Essentials", "Public Speaking", "Project Management", "Emotional Intelligence",
    "Negotiation", "Data Privacy", "Manual Handling", "Unconscious Bias", "Financial Literacy",
    "Remote Team Management", "Design Thinking", "Sales Prospecting", "Fire Safety",
    "Anti-Bribery", "Mental Health at Work", "SQL Fundamentals", "Giving Feedback",
)

TITLE_PATTERNS = {
    "course": ("Introduction to {s}", "{s}: A Practical Guide", "Mastering {s}", "{s} Essentials"),
    "document": ("{s} Checklist", "{s} (PDF handbook)", "{s} Quick Reference"),
    "interactive": ("{s} Simulation", "Practise {s}", "{s}: Scenario Lab"),
    "text": ("Reading: {s}", "{s} Explained", "Notes on {s}"),
    "video": ("{s} in 5 Minutes", "{s} (Video)", "Watch: {s}"),
    "link": ("External resource: {s}", "{s} on the web"),
    "audio": ("{s} Podcast", "Listen: {s}"),
    "playlist": ("{s} Learning Path", "Playlist: {s}"),
    "award": ("{s} Certificate", "{s} Award"),
}

#: titles that stress encodings and escaping: curly and straight quotes, RTL, CJK, emoji
ODD_TITLES = (
    "Leading \u201cAgile\u201d Teams \u2014 Part 2",
    "Don't Panic: Handling Complaints",
    'The "Five Whys" Technique',
    "Gestion du temps\u00a0: les bases",
    "Comunica\u00e7\u00e3o eficaz no trabalho",
    "\u6642\u9593\u7ba1\u7406\u5165\u9580",
    "\u05e0\u05d9\u05d4\u05d5\u05dc \u05d6\u05de\u05df",
    "Caf\u00e9 & Croissants: French for Business",
    "\u00dcn\u00efc\u00f6d\u00e9 T\u00eetl\u00e9 \u2713",
    "Launch Plans \U0001f680 for Beginners",
    "  Leading and trailing spaces  ",
    "A <b>bold</b> title & more",
)

DESCRIPTION_SENTENCES = (
    "This module walks you through the key ideas step by step.",
    "You will practise with real examples from the workplace.",
    "Ideal for new managers and experienced team leads alike.",
    "Includes a short quiz at the end to check your understanding.",
    "Learn at your own pace, on any device.",
    "Covers the latest regulations and best practice.",
)

KEYWORDS = ("key takeaways", "hands-on", "best practice", "quick wins", "certified")

PROVIDERS = (
    ("Northwind Academy", "https://cdn.example-go1.com/providers/northwind.png"),
    ("Contoso Learning", "https://cdn.example-go1.com/providers/contoso.png"),
    ("Fabrikam Studios", "https://cdn.example-go1.com/providers/fabrikam.svg"),
    ("BrightPath", "https://cdn.example-go1.com/providers/brightpath.png"),
    ("O'Malley & Sons Training", "https://cdn.example-go1.com/providers/omalley.png"),
    ("Les \u00c9ditions Savoir", "https://cdn.example-go1.com/providers/savoir.png"),
    ("Lernwerk GmbH", ""),
    ("Acme Compliance", "https://cdn.example-go1.com/providers/acme.png"),
    ("Blue Owl Media", "https://cdn.example-go1.com/providers/blueowl.jpg"),
    ("TechTutors", "https://cdn.example-go1.com/providers/techtutors.png"),
    ("\u5b66\u4e60\u5de5\u574a", "https://cdn.example-go1.com/providers/xuexi.png"),
    ("Go1", "https://cdn.example-go1.com/providers/go1.png"),
)

AUTHORS = (
    "Jane Doe", "John Smith", "Amélie Laurent", "Sean O'Brien", "Nguyễn Văn An", "Priya Patel",
    "Carlos Gómez", "Yuki Tanaka", "Fatima Al-Sayed", "Zoë Williams", "Dr. Eli Cohen",
    "Chen Wei", "Olusegun Adeyemi", "Marta Kowalska", "Lars Nilsson", "Ana Beatriz Souza",
)

TOPICS = (
    (64, "Technology Skills"), (17, "IT Software"), (110, "Microsoft Products"),
    (21, "Leadership"), (35, "Compliance"), (42, "Health & Safety"), (55, "Sales"),
    (58, "Customer Service"), (71, "Personal Development"), (80, "Finance"),
    (93, "Diversity, Equity & Inclusion"), (101, "Wellbeing"), (120, "Data & Analytics"),
    (133, "Project Management"), (147, "Communication"), (150, "Languages"),
)

ENTRY_LEVELS = ("Beginner", "Intermediate", "Advanced", "Suitable for everyone")

GIVEN_NAMES = (
    "Alice", "Bob", "Chloé", "David", "Émilie", "Farid", "Grace", "Hiroshi", "Inès", "James",
    "Kavya", "Liam", "María", "Noah", "Olivia", "Pedro", "Quinn", "Rania", "Søren", "Tomás",
    "Uma", "Victor", "Wen", "Xavier", "Yasmin", "Zoë",
)

FAMILY_NAMES = (
    "Anderson", "Brown", "Çelik", "Dubois", "Evans", "Fischer", "García", "Hernández", "Ito",
    "Jensen", "Kim", "Lefèvre", "Müller", "Nakamura", "O'Connor", "Petrov", "Quintero",
    "Rossi", "Schmidt", "Tremblay", "Ulrich", "Van der Berg", "Wójcik", "Xu", "Yilmaz", "Zhang",
)

EMAIL_DOMAINS = ("acme-corp.com", "acme-corp.co.uk", "contractors.acme-corp.com")
