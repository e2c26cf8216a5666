"""Stage 1, the source: reading what people write.

Safe YAML that keeps every value's line and column (:mod:`.marked`), the
diagnostics that point back at that text (:mod:`.diagnostics`), where the
policy and rules files are found (:mod:`.paths`), and the requirement ids the
requirements file declares (:mod:`.requirements`), and edits of a YAML text
that change only the values edited, keeping its comments and layout
(:mod:`.roundtrip`). Nothing here knows what a policy or a rule means.
"""
