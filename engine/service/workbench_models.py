"""The workbench's request bodies and answers, as its OpenAPI document shows them.

Bodies are strict like the service's (an unknown field or a string where a
number belongs is a 422 naming it). Answers are declared so that the schema
tests can check every route of the page against its document; parts whose
shape belongs to another module (an impact report, a scenario's result, a
decision table) are declared as JSON objects and described in words, the
module that builds them being their single statement.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from engine.service.models import Problem, ProblemDiagnostic

Files = dict[str, str]
_FILES: Any = Field(
    default_factory=dict,
    description="The draft: texts being edited, by file name (`policies.yaml`, `rules/<event>.yaml`), "
    "for the files whose text differs from the saved one.",
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DraftBody(_Body):
    files: Files = _FILES


class SaveBody(_Body):
    file: str
    text: str
    token: str = Field(description="The file's token when it was opened (`GET /wb/api/files`).")
    dry_run: bool = False
    note: str | None = Field(
        None, max_length=2000, description="In a git work tree: the commit's message (the editor's note)."
    )
    author: str | None = Field(None, max_length=200, description="In a git work tree: `Name <email>`.")


class FileBody(_Body):
    file: str


class FactsBody(DraftBody):
    event: str
    facts: dict[str, bool | int | str] = Field(default_factory=dict)


class RunBody(DraftBody):
    scenario: str = Field(description="The scenario's YAML text.")
    name: str = "scenario.yaml"


class ImpactBody(DraftBody):
    scenarios: list[str] = Field(
        default_factory=list, description="Names of the folder's scenarios (`GET /wb/api/scenarios`)."
    )
    store: bool = Field(False, description="Replay a store given at start (`--db`) instead.")
    db: int = Field(0, ge=0, le=1000, description="Which store given at start (its place in `stores`).")


class TableBody(DraftBody):
    file: str = Field(description="The rules file to show, e.g. `rules/send.yaml`.")


class Edit(_Body):
    path: list[str | int] = Field(
        max_length=16,
        description="Keys of mappings and indexes of lists, from the top of the file to the value.",
    )
    value: JsonValue = Field(None, description="The new value (a new key goes at the end of its mapping).")
    remove: bool = Field(False, description="Remove the key or list item instead of setting it.")


class EditBody(_Body):
    file: str
    text: str = Field(description="The file's text to edit (the draft's, or the saved one).")
    edits: list[Edit] = Field(max_length=100)


# --- answers ------------------------------------------------------------------------------------


class FileOut(BaseModel):
    name: str
    text: str
    token: str
    packaged: bool = Field(description="Shown from the package: the folder has no copy of its own yet.")


class FilesOut(BaseModel):
    folder: str
    files: list[FileOut]
    store: bool = Field(description="Whether a store was given at start (`--db`), for impact.")
    stores: list[str] = Field(
        default_factory=list,
        description="The stores given at start, in order: paths, or URLs without passwords.",
    )


class CheckOut(BaseModel):
    ok: bool
    revision: str | None
    diagnostics: list[ProblemDiagnostic]
    plans: list[dict[str, JsonValue]] | None = Field(description="The draft's plans, when it loads.")
    saved_plans: list[dict[str, JsonValue]] | None


class PlanInUseOut(BaseModel):
    plan: str = Field(description="A plan the edited policy no longer has.")
    store: Literal["store", "service"] = Field(
        description="Whose accounts: `store`, the store given at start (`--db`); `service`, the "
        "workbench's own `/v1`."
    )
    name: str | None = Field(
        None, description="Which store given at start, when there are several (its path or URL, no password)."
    )
    accounts: int = Field(description="How many accounts of that store are on the plan.")
    examples: list[str] = Field(description="The first few of them, by name.")
    message: str


class ExpectationOut(BaseModel):
    scenario: str = Field(description="The scenario file, e.g. `examples/scenarios/plans-compared.yaml`.")
    line: int = Field(description="The line of the expectation in that file.")
    column: int
    step_line: int = Field(description="The line of its step.")
    key: str = Field(description="What is checked: `outcome`, `reason`, `status`, `balance.<account>`, …")
    what: str = Field(description="The same, in words (`balance of bill`).")
    expected: JsonValue = Field(description="What the scenario expects (it held on the saved files).")
    now: JsonValue = Field(description="What the step gives after the save.")
    text: str


class BrokenScenarioOut(BaseModel):
    scenario: str
    line: int | None = Field(description="Where in the scenario, when the problem is in it.")
    code: str
    message: str


class ChecksOut(BaseModel):
    """The checks before save: what the save would break (refused) and what it changes (listed)."""

    loads: bool = Field(
        description="Whether the folder loads with this file: else the scenarios are not run (and the "
        "save is refused with the diagnostics)."
    )
    plans_in_use: list[PlanInUseOut] = Field(
        description="Accounts on plans the policy would no longer have: the save is refused (`plan_in_use`)."
    )
    expectations: list[ExpectationOut] = Field(
        description="Scenario expectations that hold on the saved files and fail after the save."
    )
    broken: list[BrokenScenarioOut] = Field(
        description="Scenarios that ran on the saved files and do not load or run after the save."
    )
    scenarios: int = Field(description="How many of the folder's scenarios were run on both sides.")
    features: int = Field(description="The folder's BDD feature files (`features/*.feature`): not run here.")


class DiffOut(BaseModel):
    file: str
    diff: str = Field(description="A unified diff, saved -> draft.")
    checks: ChecksOut


class SavedOut(BaseModel):
    file: str
    token: str
    revision: str = Field(description="The policy revision the service answers with now.")


class UndoneOut(SavedOut):
    text: str


class SchemasOut(BaseModel):
    policy: dict[str, Any]
    rules: dict[str, Any]
    scenario: dict[str, Any]
    events: dict[str, dict[str, Any]] = Field(description="Each event's own rules-file schema.")


class FactOut(BaseModel):
    name: str
    type: str
    doc: str
    default: bool | int | str
    choices: list[str] | None


class CatalogOut(BaseModel):
    events: dict[str, list[FactOut]]


class FactsOut(BaseModel):
    facts: dict[str, bool | int | str] = Field(
        description="Every fact of the event: the given ones, the others their defaults under the draft "
        "policy, following the given ones (a plan's facts follow the chosen plan)."
    )


class DecideOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    event: str
    outcome: str
    reason: str | None
    effects: list[str]
    rule: str
    requirements: list[str]
    facts: dict[str, bool | int | str]
    read: list[str] = Field(description="The facts the event's rules read.")
    file: str
    line: int
    rows: list[dict[str, JsonValue]] = Field(
        description="Each rule of the file from the first down to the deciding one (the last): whether "
        "it matched, and the facts whose condition did not."
    )


class EditOut(BaseModel):
    file: str
    text: str


class PlanUse(BaseModel):
    scenarios: list[str] = Field(description="The folder's scenarios that name the plan.")
    account: str | None = Field(description="An account on the plan in the bound store, if any.")


class UsageOut(BaseModel):
    store: bool = Field(description="Whether a store is bound (`--db`).")
    plans: dict[str, PlanUse]


class JsonOut(BaseModel):
    """An answer whose shape is stated by the module that builds it (see the route's description)."""

    model_config = ConfigDict(extra="allow")


class ScenariosOut(BaseModel):
    scenarios: list[dict[str, str]]


class RunOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    ok: bool
    diagnostics: list[ProblemDiagnostic] | None = None
    result: dict[str, JsonValue] | None = None


class SpecOut(BaseModel):
    features: bool
    requirements: dict[str, dict[str, JsonValue]]


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The problem answers a route may give, for its OpenAPI entry."""
    return {c: {"model": Problem, "content": {"application/problem+json": {}}} for c in codes}


class CommitOut(BaseModel):
    rev: str
    short: str
    author: str = Field(description="`Name <email>`.")
    when: str = Field(description="The author date, ISO 8601.")
    note: str = Field(description="The commit message's first line.")
    files: list[str] = Field(description="The policy and rule files it changed, named from the folder.")


class HistoryOut(BaseModel):
    git: bool = Field(description="Whether the folder is in a git work tree (saves are commits).")
    commits: list[CommitOut] = Field(description="Commits touching the policy or rules, newest first.")


class VersionsDiffBody(_Body):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    from_: str = Field(alias="from", description="A commit id (7 to 40 hex digits).")
    to: str = Field(description="A commit id (7 to 40 hex digits).")


class VersionsDiffOut(BaseModel):
    diff: str = Field(description="A unified diff of the policy and rules, `from` -> `to`.")
    plans: dict[str, list[dict[str, JsonValue]] | None] = Field(
        description="`from` and `to`: each revision's plan table, null when its policy does not load."
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="The plan table's columns and their titles, in order."
    )
    diagnostics: dict[str, list[ProblemDiagnostic]]


class RestoreBody(_Body):
    rev: str = Field(description="A commit id (7 to 40 hex digits).")
    author: str | None = Field(None, max_length=200)


class RestoredOut(BaseModel):
    rev: str
    files: list[str]
    revision: str = Field(description="The policy revision the service answers with now.")


class PublishBody(_Body):
    """Nothing to give: the service reloads the files it was started with."""


class PublishTargetOut(BaseModel):
    configured: bool = Field(description="The workbench was started with `--publish-to`.")
    url: str | None = Field(description="The base URL of the service it publishes to.")


class PublishedOut(BaseModel):
    revision: str = Field(description="The revision the service answers with now.")
    previous: str = Field(description="The one it answered with before.")
    changed: bool
    url: str
