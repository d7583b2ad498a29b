"""Reusable Qt widgets: table models/views and charts. They never call services."""
