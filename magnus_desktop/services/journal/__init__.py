"""The decision journal (no Qt): entries from the ticket, alerts and the assistant; outcomes linked
when positions close; the review and learned scanner preferences."""

from magnus_desktop.services.journal.repo import JournalInputError, JournalRepo
from magnus_desktop.services.journal.service import PREFERENCE_FIELDS, JournalService

__all__ = ["PREFERENCE_FIELDS", "JournalInputError", "JournalRepo", "JournalService"]
