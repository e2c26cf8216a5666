"""The base side of ``inmail impact``: a policy file, or the policy and rules at a git revision.

``--base git:origin/main`` is how a policy repository asks what a pull request
changes: the base is the policy file the new side reads (``--policy``, else
``./policies.yaml``) as it was at that revision, and, unless ``--base-rules`` says
otherwise, the rules folder the new side reads (``--rules``, else ``./rules``) at the
same revision. Their files are written into a new temporary folder that lives as
long as the command (click closes it, whatever happens), and the comparison reads
them as it reads any file. The report then names the revision, so a reviewer sees
what was compared with what.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

from engine.codes import C
from engine.source.gitrev import (
    GitProblem,
    NotFound,
    Revision,
    UnknownRevision,
    kind_at,
    locate,
    resolve,
    revision_of,
    write_file,
    write_folder,
)
from engine.source.paths import packaged_rules_dir


@dataclass(frozen=True)
class BaseSide:
    """The files the base side reads, and how the report names them when they came from git."""

    policy: str
    #: None: the same rules as the new side (what ``--base-rules`` left out has always meant)
    rules: str | None
    #: ``git:origin/main (abc1234)``; None when both came from files
    label: str | None = None

    def announce(self, fmt: str) -> None:
        """Name the git revision above the report; on stderr for JSON, which must stay one document."""
        if self.label is None:
            return
        line = f"base: {self.label}"
        if fmt == "markdown":
            line = f"base: `{self.label}`\n"  # a paragraph of its own, before the report's blocks
        click.echo(line, err=fmt == "json")


def base_side(
    base_policy: str, base_rules: str | None, new_policy: str | None, new_rules: str | None
) -> BaseSide:
    """The base policy and rules as files, reading any ``git:REV`` into a folder kept until the command ends.

    A problem with git is one of the catalog's errors (exit 2): ``git_unavailable``,
    ``unknown_revision`` (naming it), or ``file_not_found`` naming ``REV:path``.
    """
    try:
        return _base_side(base_policy, base_rules, new_policy, new_rules)
    except NotFound as exc:
        raise C.file_not_found(exc.message, help=exc.help) from None
    except UnknownRevision as exc:
        raise C.unknown_revision(exc.message, help=exc.help) from None
    except GitProblem as exc:
        raise C.git_unavailable(exc.message, help=exc.help) from None


def _base_side(
    base_policy: str, base_rules: str | None, new_policy: str | None, new_rules: str | None
) -> BaseSide:
    policy_rev, rules_rev = revision_of(base_policy), revision_of(base_rules)
    if policy_rev is None:
        if not Path(base_policy).is_file():
            raise C.file_not_found(f"no policy file `{base_policy}`")
        if rules_rev is None:
            return BaseSide(base_policy, base_rules)
    ctx = click.get_current_context()
    folder = Path(ctx.with_resource(tempfile.TemporaryDirectory(prefix="inmail-base-")))
    labels: list[str] = []
    policy, rev = base_policy, None
    if policy_rev is not None:
        top, inner = locate(new_policy or "policies.yaml")
        rev = resolve(top, policy_rev)
        (folder / "policy").mkdir()
        written = folder / "policy" / Path(inner).name
        write_file(rev, inner, written)
        policy = str(written)
        labels.append(rev.label)
    rules = base_rules
    if rules_rev is not None:
        rules, rules_label = _rules_at(rules_rev, new_rules, folder / "rules", explicit=True, same=rev)
        labels.append(rules_label)
    elif base_rules is None and rev is not None:
        rules, rules_label = _rules_at(rev.name, new_rules, folder / "rules", explicit=False, same=rev)
        labels.append(rules_label)
    return BaseSide(policy, rules, "; ".join(x for x in labels if x))


def _rules_at(
    name: str, new_rules: str | None, folder: Path, *, explicit: bool, same: Revision | None
) -> tuple[str | None, str]:
    """The rules folder the new side reads (``--rules``, else ``./rules``) as it was at ``name``.

    Given as ``--base-rules git:REV`` the folder must be there. Taken by default from
    ``--base git:REV``, the rule every command follows applies at that revision: no
    folder there means the packaged rules, and a folder outside the policy's repository
    (which the revision does not cover) means the new side's rules, as without git.
    Returns the folder (None: the new side's) and what the report says of it ("" when
    the policy's label says it all).
    """
    where = new_rules or "rules"
    try:
        top, inner = locate(where)
    except GitProblem:
        if explicit:
            raise
        return None, ""
    if not explicit and same is not None and top != same.top:
        return None, ""
    rev = same if same is not None and same.top == top and same.name == name else resolve(top, name)
    said = "" if rev is same else f"rules {rev.label}"
    if not explicit and kind_at(rev, inner) == "missing":
        return str(packaged_rules_dir()), f"rules packaged (no `{rev.at(inner)}`)"
    written = folder / Path(inner).name
    write_folder(rev, inner, written)
    # the requirement ids the rules may cite are read from features/REQUIREMENTS.md beside the folder
    beside = f"{inner.rpartition('/')[0]}/features/REQUIREMENTS.md".lstrip("/")
    if kind_at(rev, beside) == "file":
        (folder / "features").mkdir()
        write_file(rev, beside, folder / "features" / "REQUIREMENTS.md")
    return str(written), said
