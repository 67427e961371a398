"""How two enquiries are recognised as one person's. No database access.

Email addresses match on a key: lower case, and, as the clinic configures
(LEAD_EMAIL_MATCHING), without "+tags" and without dots in Gmail's local parts, where
those never change the mailbox. Phones are already E.164 from intake, so they match
as they are. Names only decide whether a phone match is certain.
"""

import unicodedata
from collections.abc import Collection

# Domains whose mailboxes ignore dots in the local part.
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def email_key(email: str, *, matching: Collection[str]) -> str:
    """The form of `email` that matching compares: "Ayse.K+clinic@Gmail.com" and
    "aysek@gmail.com" give the same key with plus_tags and gmail_dots."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    if domain == "googlemail.com":
        domain = "gmail.com"
    if "plus_tags" in matching:
        local = local.split("+", 1)[0]
    if "all_dots" in matching or ("gmail_dots" in matching and domain in GMAIL_DOMAINS):
        local = local.replace(".", "")
    return f"{local}@{domain}"


def name_key(name: str) -> tuple[str, ...]:
    """The words of a name without case or accents: "Ayşe  Kaya" -> ("ayse", "kaya")."""
    folded = unicodedata.normalize("NFKD", name.casefold().replace("ı", "i"))
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return tuple(sorted("".join(c if c.isalnum() else " " for c in letters).split()))


def names_agree(one: str, other: str) -> bool:
    """True when one name's words all appear in the other's ("Ayşe Kaya" and
    "ayse kaya yilmaz"); a household sharing a phone usually fails this."""
    a, b = set(name_key(one)), set(name_key(other))
    return bool(a and b) and (a <= b or b <= a)
