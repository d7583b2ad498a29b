"""Desktop integration on the Qt side: one running instance per user, Help → Report a problem."""
