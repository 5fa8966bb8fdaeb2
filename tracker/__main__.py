"""``python -m tracker`` runs the same command line as ``token-ledger``.

``freeze_support()`` first, as in the PyInstaller entry point (packaging/pyinstaller/entry.py): it does nothing
outside a frozen app, and the guard keeps a ``spawn`` worker that imports this module from running the CLI.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from tracker.cli import main

    raise SystemExit(main())
