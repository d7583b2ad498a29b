"""The scanner dock: wheel-scanner filters and the ranked opportunities of the replay day."""
