"""Token Ledger: a private ledger of what AI tokens cost and what they bought."""

__version__ = "0.1.0"
