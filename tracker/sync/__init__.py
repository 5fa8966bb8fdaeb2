"""Background work of the desktop app: worker threads, the sync service and its scheduler (Qt allowed here)."""
