"""Qt user interface: main window, docks, dialogs, view models."""
