"""Desktop integration without Qt: start with Windows (Run key), the Windows app id, crash reports and
the "Report a problem" zip. The Qt side (single instance, menus, message handler) is ``ui/desktop``."""
