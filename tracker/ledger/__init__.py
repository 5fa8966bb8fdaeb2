"""The ledger service: importing usage into the store and keeping its costs current."""
