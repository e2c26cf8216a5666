"""Stage 6, the engine: a call becomes facts, a verdict from the rules, and ledger effects.

:mod:`.engine` is the :class:`Engine` facade (check the arguments, settle
what fell due, build the facts, ask the rules, carry out the effects, save);
:mod:`.context` holds what depends on the policy in force and builds every
Decision; :mod:`.timeline` raises the renewals, expiries and reminders due;
:mod:`.effects` is the one table from effect names to ledger handlers.
"""
