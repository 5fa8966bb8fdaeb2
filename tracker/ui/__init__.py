"""The desktop app's widgets: tray, dashboard window and pages (PySide6). Entry point: ``tracker.ui.app.run_app``.

Nothing outside ``tracker.ui`` and ``tracker.sync`` imports Qt; the CLI imports this package only when it starts
the app, so command-line start-up never pays for PySide6.
"""
