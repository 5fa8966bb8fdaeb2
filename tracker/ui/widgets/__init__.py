"""Reusable widgets of the dashboard window: the spend chart, table models, dialogs and formatting helpers."""
