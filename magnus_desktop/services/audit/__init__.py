"""The order audit log: every placed, cancelled and rejected order and its fills, append-only."""

from magnus_desktop.services.audit.service import AuditService, fold_order_line, write_csv

__all__ = ["AuditService", "fold_order_line", "write_csv"]
