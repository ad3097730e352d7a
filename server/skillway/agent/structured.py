"""Structured output (print mode's `--json-schema`), as Claude Code 2.1.328 asks for it: an extra tool,
`StructuredOutput`, whose input schema is the user's schema verbatim. The model's call is checked
against the schema; a call that does not match is told why and tried again, at most `MAX_ATTEMPTS`
times; an answer in plain text is reminded once to call the tool."""

from __future__ import annotations

from typing import Any

NAME = "StructuredOutput"
# A mismatch is retried once, then the run fails (Claude Code tries five times; one retry says as
# much about a schema the model cannot meet, and a CI run fails four requests sooner).
MAX_ATTEMPTS = 2
DESCRIPTION = ("Use this tool to return your final response in the requested structured format. You MUST call this "
               "tool exactly once at the end of your response to provide the structured output.")
ACCEPTED = "Structured output provided successfully"
NUDGE = ("[structured-output-enforce] You MUST call the StructuredOutput tool to complete this request. "
         "Call this tool now.")


class SchemaProblem(ValueError):
    """The schema given is not a JSON Schema object: the message says what is wrong."""


def definition(schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": NAME, "description": DESCRIPTION, "input_schema": schema}


def check_schema(schema: object) -> dict[str, Any]:
    """`schema` if it is a JSON Schema object (of the draft its `$schema` names, else 2020-12); else SchemaProblem."""
    if not isinstance(schema, dict):
        raise SchemaProblem("must be a JSON object")
    import jsonschema  # only a run with a schema pays for it

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    problems = sorted(cls(cls.META_SCHEMA).iter_errors(schema), key=lambda e: list(e.absolute_path))
    if problems:
        raise SchemaProblem("is not a valid JSON Schema: " + ", ".join(
            f"{_place(list(p.absolute_path))}: {p.message}" for p in problems))
    return schema


def mismatch(schema: dict[str, Any], value: object) -> str | None:
    """Why `value` does not match `schema` (each problem as `<where>: <what>`, the top level being
    `root`, as Claude Code words them), or None when it matches."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    problems = sorted(cls(schema).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    if not problems:
        return None
    return "Output does not match required schema: " + ", ".join(
        f"{_place(list(p.absolute_path))}: {p.message}" for p in problems)


def _place(path: list) -> str:
    return "/" + "/".join(map(str, path)) if path else "root"


def exhausted(last_error: str) -> str:
    return f"Failed to provide valid structured output after {MAX_ATTEMPTS} attempts — last StructuredOutput error: {last_error}"
