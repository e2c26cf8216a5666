"""The catalog of error codes: every code the engine, its CLI and its HTTP service give, listed once.

A code is a promise: tests, golden files, scripts and HTTP clients branch on
it, so it must not drift or multiply. Each member of :class:`C` is one code
(a ``str``, equal to its own name) with everything a door needs to know about
it: the one exception class that carries it, its HTTP status, the CLI's exit
code and a line saying what it means. Raising goes through the member,
``raise C.unknown_account(f"no account `{name}`")``, which builds the code's
own class: a misspelt code is an AttributeError (and a mypy error), never a
new code, and no code can be raised with two classes. Diagnostics name their
code the same way (``d.error(C.unknown_key, ...)``), except in
:mod:`engine.source`, which sits below this catalog and whose literal codes
the tests check against it. ``python -m engine.codes README.md`` writes the
README's table of codes from here.

A few codes of exceptions also name a problem in a file: a scenario step the
engine would refuse (``unknown_account``, ``time_went_back``) or a file that
is missing (``file_not_found``). Their entry is the exception's; an
:class:`~engine.errors.InvalidInput` takes the code of its first diagnostic,
so over HTTP it has that code's status.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from engine.errors import (
    EngineError,
    InvalidCall,
    InvalidInput,
    PlotUnavailable,
    RuleEngineFailure,
    StoreUnavailable,
)

#: How a code reaches a person: ``error`` an exception (``exc`` says which), ``diagnostic`` a
#: problem in a file (carried by :class:`~engine.errors.InvalidInput`), ``cli`` the command line
#: refused before any command ran, ``http`` the HTTP service refused a request before the engine
#: saw it, ``check`` a scenario ran but an expectation did not hold.
Kind = Literal["error", "diagnostic", "cli", "http", "check"]
_Row = tuple[str, Kind, type[EngineError] | None, int | None, int | None, str, str | None]

#: The status of a problem in a file over HTTP (a policy refused on reload): the value is refused.
INPUT_STATUS = 422


def _raised(
    code: str, exc: type[EngineError], meaning: str, status: int = 422, help: str | None = None
) -> _Row:
    return (code, "error", exc, status, exc.exit_code, meaning, help)


def _call(code: str, meaning: str, status: int = 422, help: str | None = None) -> _Row:
    return _raised(code, InvalidCall, meaning, status, help)


def _error(code: str, meaning: str, status: int = 422, help: str | None = None) -> _Row:
    return _raised(code, EngineError, meaning, status, help)


def _file(code: str, meaning: str) -> _Row:
    return (code, "diagnostic", InvalidInput, INPUT_STATUS, InvalidInput.exit_code, meaning, None)


def _cli(code: str, meaning: str) -> _Row:
    return (code, "cli", None, None, 2, meaning, None)


def _http(code: str, status: int, meaning: str) -> _Row:
    return (code, "http", None, status, None, meaning, None)


def _check(code: str, meaning: str) -> _Row:
    return (code, "check", None, None, 1, meaning, None)


class C(StrEnum):
    """Every error code, once; ``C.unknown_account("...")`` builds the code's own exception."""

    kind: Kind
    #: The one exception class that carries the code (None for codes no exception carries).
    exc: type[EngineError] | None
    #: The HTTP status of a problem with this code (None: the service never answers with it).
    status: int | None
    #: The CLI's exit code (None: the CLI never shows it).
    exit: int | None
    meaning: str
    #: The ``help`` an exception of this code carries when its raise site gives none.
    help: str | None

    def __new__(
        cls,
        code: str,
        kind: Kind,
        exc: type[EngineError] | None,
        status: int | None,
        exit: int | None,
        meaning: str,
        help: str | None,
    ) -> C:
        self = str.__new__(cls, code)
        self._value_ = code
        self.kind = kind
        self.exc = exc
        self.status = status
        self.exit = exit
        self.meaning = meaning
        self.help = help
        return self

    def __call__(self, message: str, *, help: str | None = None) -> EngineError:
        """The exception of this code: its own class, with ``message`` and ``help`` (or the usual one)."""
        if self.kind != "error" or self.exc is None:
            raise TypeError(f"`{self.value}` is a {self.kind} code: no exception carries it")
        return self.exc(message, str(self), help=self.help if help is None else help)

    @classmethod
    def lookup(cls, code: str) -> C | None:
        """The member for ``code``, or None for a code the catalog does not have."""
        return cls.__members__.get(code)  # each member is named as its code spells it

    @property
    def refused_call(self) -> bool:
        """A call the engine refused whole (nothing changed): not applicable, not a failure."""
        return self.exc is not None and issubclass(self.exc, InvalidCall)

    # --- calls refused (InvalidCall): the API, a scenario's step, a CLI argument ------------------
    account_exists = _call("account_exists", "the account already has an active Premium plan", 409)
    closed = _call("closed", "the rule book was closed (the engine is closing or reloaded)", 503)
    file_not_found = _call("file_not_found", "a file or folder that was named is missing")
    idempotency_key_reused = _call(
        "idempotency_key_reused", "the idempotency key was used for another call", 409
    )
    invalid_argument = _call("invalid_argument", "an argument of the wrong type or out of range")
    invalid_fact = _call("invalid_fact", "a fact given to `decide` has a value it cannot have")
    invalid_key = _call("invalid_key", "an idempotency key (or a YAML key) that is not one", 400)
    invalid_message_id = _call("invalid_message_id", "a message id that is empty, too long or not text")
    invalid_name = _call("invalid_name", "a name that is empty, too long or holds control characters")
    invalid_payment_status = _call("invalid_payment_status", "a payment status other than valid/expired")
    invalid_quantity = _call("invalid_quantity", "a number of credits (or accounts) out of range")
    invalid_time = _call("invalid_time", "a value that is not an instant the engine reads")
    message_exists = _call("message_exists", "a message with this id already exists", 409)
    missing_dependency = _call("missing_dependency", "an optional package the command needs is missing")
    nonexistent_local_time = _call(
        "nonexistent_local_time", "a wall-clock time that a daylight-saving change skips"
    )
    plan_in_use = _call("plan_in_use", "the store has accounts on a plan the policy drops")
    self_connection = _call("self_connection", "an account connecting or sending to itself")
    time_out_of_range = _call("time_out_of_range", "an instant outside 1970-01-01 .. 2999-12-31")
    time_went_back = _call("time_went_back", "an event before the account's last instant", 409)
    unknown_account = _call("unknown_account", "no account has this name", 404)
    unknown_event = _call("unknown_event", "no event kind has this name", 404)
    unknown_fact = _call("unknown_fact", "the event kind has no fact of this name")
    unknown_message = _call("unknown_message", "no message has this id", 404)
    unknown_plan = _call("unknown_plan", "the policy has no plan of this name")
    unknown_response_type = _call("unknown_response_type", "the policy has no response type of this name")
    unwritable_output = _call("unwritable_output", "an output file or folder cannot be written")
    invalid_call = _call("invalid_call", "reserved: an InvalidCall raised without a code")

    # --- the store, the service's setup, the workbench (EngineError and its kin) ------------------
    store_conflict = _raised(
        "store_conflict", StoreUnavailable, "another process's transaction got in the way: retry", 503
    )
    store_unavailable = _raised(
        "store_unavailable", StoreUnavailable, "the database cannot be reached or failed the call", 503
    )
    rule_engine_failure = _raised(
        "rule_engine_failure", RuleEngineFailure, "a bug: the rule engine failed on an event", 500
    )
    unwritable_file = _raised("unwritable_file", PlotUnavailable, "the chart cannot be written")
    address_unavailable = _error("address_unavailable", "the server cannot listen on this host and port")
    commit_failed = _error(
        "commit_failed", "git refused to commit a workbench save: the file was put back as it was", 409
    )
    changed_on_disk = _error("changed_on_disk", "the file changed on disk since it was opened", 409)
    database_unavailable = _error("database_unavailable", "the database cannot be opened")
    git_unavailable = _error(
        "git_unavailable", "`git:REV` given, but git is not installed or the folder is in no git work tree"
    )
    impact_busy = _error(
        "impact_busy", "the workbench is working out as many impact reports as it runs at once", 409
    )
    internal_error = _error("internal_error", "a bug: the service failed on the request (logged)", 500)
    invalid_database = _error("invalid_database", "the store's name or URL is not one")
    invalid_docs_source = _error("invalid_docs_source", "a documentation source file lacks an entry")
    invalid_file = _error("invalid_file", "the workbench does not edit this file, or it is too long")
    invalid_results = _error("invalid_results", "a test results file is not the format expected")
    invalid_token = _error("invalid_token", "the service's token is blank, too long or unreadable")
    log_incomplete = _error("log_incomplete", "the store predates its event log: it cannot be replayed")
    memory_store_one_worker = _error(
        "memory_store_one_worker",
        "several workers cannot share an in-memory store",
        help="give --db FILE (SQLite) or --db postgresql://...",
    )
    no_publish_target = _error("no_publish_target", "the workbench was started without --publish-to", 409)
    no_store = _error("no_store", "the workbench was started without a store", 409)
    not_an_inmail_store = _error("not_an_inmail_store", "the database belongs to another program")
    nothing_to_undo = _error("nothing_to_undo", "no save of this file to undo", 409)
    publish_failed = _error("publish_failed", "the service to publish to did not answer, or not as one", 502)
    publish_token_refused = _error(
        "publish_token_refused", "the service to publish to refused the workbench's token", 502
    )
    revision_busy = _error("revision_busy", "the published revision kept changing while it was read")
    revision_mismatch = _error("revision_mismatch", "a published revision's texts give another revision")
    revision_missing = _error("revision_missing", "the store keeps no texts for a revision it used")
    schema_version = _error("schema_version", "the store was made by another version of the engine")
    store_not_found = _error("store_not_found", "no store at this path or URL")
    token_required = _error(
        "token_required",
        "a server reachable from other machines needs a token",
        help="give --token-file FILE, or set INMAIL_TOKEN",
    )
    unknown_revision = _error("unknown_revision", "the git repository has no commit of this name")
    unknown_job = _error(
        "unknown_job", "no impact report of this id (finished ones are kept ten minutes)", 404
    )
    unknown_scenario = _error("unknown_scenario", "the workbench folder has no scenario of this name", 404)
    worker_failed = _error("worker_failed", "a worker process died (out of memory?)")
    engine_error = _error("engine_error", "reserved: an EngineError raised without a code")

    # --- problems in files (policy, rules, scenarios): diagnostics in an InvalidInput -------------
    account_not_started = _file("account_not_started", "a step acts for an account before its `since`")
    cap_below_allotment = _file("cap_below_allotment", "a plan's cap is below its monthly allotment")
    catch_all_not_last = _file("catch_all_not_last", "a rule without `when` hides the rules after it")
    document_too_large = _file("document_too_large", "the YAML nests too deeply or expands too far")
    duplicate_effect = _file("duplicate_effect", "a rule lists an effect twice")
    duplicate_key = _file("duplicate_key", "a YAML mapping gives a key twice")
    duplicate_rule_id = _file("duplicate_rule_id", "two rules have the same id")
    effect_not_applicable = _file("effect_not_applicable", "the effect cannot go with the rule's outcome")
    empty_condition = _file("empty_condition", "a condition tests nothing")
    empty_file = _file("empty_file", "the file is empty")
    empty_timeline = _file("empty_timeline", "the scenario's timeline has no steps")
    event_mismatch = _file("event_mismatch", "a rules file holds rules of another event kind")
    expect_needs_event = _file("expect_needs_event", "an expectation only a step with an event can have")
    expect_not_applicable = _file("expect_not_applicable", "an expectation the step's event cannot meet")
    fact_name_collision = _file("fact_name_collision", "two facts look alike to durable_rules")
    file_too_large = _file("file_too_large", "the file is larger than the loaders read")
    forbidden_tag = _file("forbidden_tag", "a YAML tag or merge key, which are refused")
    invalid_choice = _file("invalid_choice", "a value that is not one of the allowed names")
    invalid_edit = _file("invalid_edit", "a workbench edit whose path or value does not fit the YAML text")
    invalid_operator = _file("invalid_operator", "a test that does not apply to the fact's type")
    invalid_reference = _file("invalid_reference", "a `policy.` reference to something not a single value")
    invalid_requirement = _file("invalid_requirement", "a requirement id its requirements file does not list")
    invalid_rule_id = _file("invalid_rule_id", "a rule id that is not lowercase words joined by `-`")
    invalid_value = _file("invalid_value", "a YAML value that cannot be read")
    list_too_long = _file("list_too_long", "an `in` list with too many values")
    missing_catch_all = _file("missing_catch_all", "some events of the kind would get no decision")
    missing_key = _file("missing_key", "a required key is missing")
    missing_reason = _file("missing_reason", "a refusal or skip without a reason")
    missing_requirement = _file("missing_requirement", "a rule cites no requirement")
    missing_rules_file = _file("missing_rules_file", "an event kind has no rules file")
    multiple_events = _file("multiple_events", "a scenario step with more than one event")
    negative_number = _file("negative_number", "a number that cannot be negative is")
    not_an_integer = _file("not_an_integer", "a value that must be a whole number is not")
    not_utf8 = _file("not_utf8", "the file is not UTF-8 text")
    out_of_range = _file("out_of_range", "a number outside its allowed range")
    plan_reference_unavailable = _file(
        "plan_reference_unavailable", "a `plan.` reference in rules of an event without a plan"
    )
    reason_not_allowed = _file("reason_not_allowed", "a reason on an outcome that takes none")
    rule_too_complex = _file("rule_too_complex", "a rule nests more groups than durable_rules takes")
    rules_not_found = _file("rules_not_found", "the rules folder is missing")
    shadowed_rule = _file("shadowed_rule", "warning: a rule never fires, earlier rules decide first")
    too_many_comparisons = _file("too_many_comparisons", "an event kind's rules compare too much")
    too_many_rules = _file("too_many_rules", "an event kind has more rules than durable_rules takes")
    type_mismatch = _file("type_mismatch", "a fact compared with a value of another type")
    unknown_effect = _file("unknown_effect", "the event kind has no effect of this name")
    unknown_key = _file("unknown_key", "a key the section does not have")
    unknown_operator = _file("unknown_operator", "a test the rules language does not have")
    unknown_outcome = _file("unknown_outcome", "the event kind has no outcome of this name")
    unknown_reason = _file("unknown_reason", "the event kind has no reason of this name")
    unknown_reference = _file("unknown_reference", "a `policy.` or `plan.` reference to nothing")
    unknown_rules_file = _file("unknown_rules_file", "a rules file not named after an event kind")
    unknown_status = _file("unknown_status", "an expected message status that does not exist")
    unknown_timezone = _file("unknown_timezone", "the policy's time zone is not one")
    unreadable_file = _file("unreadable_file", "the file cannot be read")
    unsatisfiable_rule = _file("unsatisfiable_rule", "warning: a rule's conditions contradict each other")
    wrong_extension = _file("wrong_extension", "a file in the rules folder not ending in `.yaml`")
    wrong_type = _file("wrong_type", "a value of the wrong type (a list for a number, ...)")
    yaml_syntax = _file("yaml_syntax", "the file is not valid YAML")
    invalid_input = _file("invalid_input", "reserved: an InvalidInput with no diagnostics")

    # --- the command line, before (or after) a command runs ----------------------------------------
    invalid_option = _cli("invalid_option", "an option used the wrong way")
    missing_argument = _cli("missing_argument", "a required argument or option is missing")
    missing_command = _cli("missing_command", "`inmail` without a command")
    output_failed = _cli("output_failed", "the output cannot be written (a full disk, a device error)")
    unexpected_argument = _cli("unexpected_argument", "more arguments than the command takes")
    unknown_command = _cli("unknown_command", "no command of this name")
    unknown_option = _cli("unknown_option", "no option of this name")
    usage_error = _cli("usage_error", "another misuse of the command line")
    expectation_failed = _check("expectation_failed", "a scenario's `expect` did not hold (exit 1)")

    # --- the HTTP service, before the engine sees the request ---------------------------------------
    body_too_large = _http("body_too_large", 413, "the request body is over --max-body")
    cross_site_request = _http("cross_site_request", 403, "another site's page may not change anything")
    headers_too_large = _http("headers_too_large", 431, "the request headers are too large")
    invalid_header = _http("invalid_header", 400, "a header that is not valid (`Content-Length`)")
    invalid_host = _http("invalid_host", 403, "the `Host` header does not name this server")
    invalid_request = _http("invalid_request", 422, "a body of the wrong shape (400: not strict JSON)")
    malformed_body = _http("malformed_body", 400, "the body cannot be read")
    malformed_json = _http("malformed_json", 400, "the body is not valid JSON")
    method_not_allowed = _http("method_not_allowed", 405, "the route does not take this method")
    not_found = _http("not_found", 404, "no route at this path")
    too_many_attempts = _http("too_many_attempts", 429, "too many wrong tokens in a minute: wait")
    unauthorized = _http("unauthorized", 401, "a missing or wrong bearer token")
    unsupported_media_type = _http("unsupported_media_type", 415, "a body that is not JSON")
    uri_too_long = _http("uri_too_long", 414, "the URL is too long")


#: Codes the engine never gives itself: the defaults of classes an app might raise without a code.
RESERVED = frozenset({C.engine_error, C.invalid_call, C.invalid_input})

for _member in C:
    if _member.name != _member.value:  # a member named one thing and spelling another: refuse at import
        raise RuntimeError(f"engine.codes: `{_member.name}` spells its code `{_member.value}`")
del _member
