"""Stage 4, the ledger: lots, their arithmetic, and the billing calendar.

The rules decide; the ledger does sums. Nothing here chooses an outcome.
"""
