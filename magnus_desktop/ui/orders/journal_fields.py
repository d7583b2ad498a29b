"""The order tickets' optional journal fields: a thesis and tags, journaled once per ticket (with the
numbers the ticket shows) when the order is sent or the ticket cancelled (issue 13, decision journal)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QLineEdit

from magnus_desktop.models.domain import ComboTicket, OrderTicket


class JournalsTicket:
    """Mixin for a ticket dialog (before ``PlacesOwnOrder`` in the bases): call
    :meth:`_make_journal_fields` while building the form; ``send`` and ``reject`` journal.

    The dialog provides ``vm`` (``OrdersViewModel``), ``pending_ref``, ``build_ticket()`` and
    ``journal_quote()`` — (bid, ask, last, underlying price) of the first leg, USD per share, NaN
    where unknown — and ``journal_p_win()`` (decimal or None).
    """

    vm: Any
    pending_ref: str | None

    def _make_journal_fields(self) -> tuple[QLineEdit, QLineEdit]:
        """The thesis and tags fields (object names ``ticket_thesis``, ``ticket_journal_tags``)."""
        self.thesis = QLineEdit()
        self.thesis.setObjectName("ticket_thesis")
        self.thesis.setPlaceholderText("optional: why — saved to the Journal when you send or cancel")
        self.journal_tags = QLineEdit()
        self.journal_tags.setObjectName("ticket_journal_tags")
        self.journal_tags.setPlaceholderText("tags, comma separated")
        self._journaled = False
        return self.thesis, self.journal_tags

    def journal_quote(self) -> Sequence[float]:
        return (math.nan, math.nan, math.nan, math.nan)

    def journal_p_win(self) -> float | None:
        return None

    def send(self, ticket: OrderTicket | ComboTicket) -> None:
        """Journal the decision (when a thesis or tags were given), then send."""
        self._journal(ticket, "sent")
        super().send(ticket)  # type: ignore[misc]

    def reject(self) -> None:  # noqa: D401 (Qt override)
        """Cancel: a ticket with a thesis is journaled as cancelled first."""
        if self.pending_ref is None:
            ticket = self.build_ticket()  # type: ignore[attr-defined]
            if ticket is not None:
                self._journal(ticket, "cancelled")
        super().reject()  # type: ignore[misc]

    def _journal(self, ticket: OrderTicket | ComboTicket, action: str) -> None:
        if self._journaled or not (self.thesis.text().strip() or self.journal_tags.text().strip()):
            return
        self._journaled = True  # one entry per ticket, even when a rejected order is sent again
        self.vm.journal_ticket(ticket, action, self.thesis.text(), self.journal_tags.text(), self.journal_quote(),
                               self.journal_p_win())
