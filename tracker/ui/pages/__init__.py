"""The dashboard window's pages: overview, usage, accounts, settings, network log (and the first-run panel)."""
