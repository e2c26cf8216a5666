"""Stage 3, the rules: ``rules/*.yaml`` checked, linted, compiled and asked for decisions.

The fact catalog (:mod:`.catalog`) is the vocabulary; the reader
(:mod:`.reader`, :mod:`.conditions`) turns files into rule models; the linter
(:mod:`.lint`) finds rules that can never fire; :mod:`._durable` (the only
module that imports durable_rules) compiles and runs them; the book
(:mod:`.book`) holds the compiled rules and answers ``decide``.
"""
