"""``python -m tracker`` runs the same command line as ``token-ledger``."""

from tracker.cli import main

raise SystemExit(main())
