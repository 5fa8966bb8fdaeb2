"""Entry point of the PyInstaller bundle: the same command line as ``token-ledger``.

``multiprocessing.freeze_support()`` must run first: the ledger parses large log trees in ``spawn`` worker
processes (tracker/ledger/parsing.py), and in a frozen app each worker is this executable started again with
multiprocessing's arguments. freeze_support() turns such a start into a worker and exits when it is done;
without it every worker would run the command line again.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from tracker.cli import main

    raise SystemExit(main())
