"""Run every scenario of every ``.feature`` file in features/ (``bdd_features_base_dir``).

The step definitions live in ``bdd_steps.py`` and are exposed by conftest.py.
Run one requirement with ``pytest tests/bdd -m R09``.
"""

from pytest_bdd import scenarios

scenarios(".")
