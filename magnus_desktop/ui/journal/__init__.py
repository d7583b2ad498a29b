"""The Journal dock (entries, review, learned preferences) and the "Journal…" dialog the ticket,
the alerts and the assistant open."""
