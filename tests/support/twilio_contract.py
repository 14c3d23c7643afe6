"""Twilio's published OpenAPI contract for the 2010 REST API, held against what the fake transport sees.

The spec (`twilio_api_v2010.json` from the npm package `@twilio-alpha/mcp`, pinned by version and sha256) is
installed at set-up by `scripts/fetch_twilio_spec.sh`, not kept in the repository. `check_request` refuses a
parameter the operation does not declare (a misspelling the real API would ignore or reject), a missing
required one, a value outside the declared or documented values, and an implausible type. `check_response`
keeps the fake's answers honest: only declared property names, with the declared JSON types.

Not checked: string patterns and lengths (tests use short symbolic SIDs such as "PN1") and error bodies (the
spec declares none).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SPEC_ENV = "TWILIO_OPENAPI_SPEC"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = REPO_ROOT / ".venv" / "share" / "twilio-oai" / "twilio_api_v2010.json"
HOST = "api.twilio.com"  # the spec's only server; Twilio's other APIs live on hosts of their own
FORM = "application/x-www-form-urlencoded"

# A recording's media (…/Recordings/RE….mp3 or .wav) is the Recording resource in another representation, so
# it is checked as GET …/Recordings/{Sid}.json. `RequestedChannels` is documented for media URLs ("Fetch a
# Recording's media file", 1 or 2) but the JSON resource spec does not declare it, hence this addition.
MEDIA_SUFFIXES = (".mp3", ".wav")
MEDIA_PARAMETERS: dict[str, dict[str, Any]] = {"RequestedChannels": {"type": "integer", "enum": ["1", "2"]}}

WireValue = str | Sequence[str]
Schema = dict[str, Any]


class ContractViolation(AssertionError):
    """A request or a fake response that Twilio's published contract does not allow."""


class MissingTwilioSpec(RuntimeError):
    pass


@dataclass(frozen=True)
class Parameter:
    schema: Schema
    description: str
    required: bool


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    # Query parameters and form fields alike: on the wire the fake cannot tell them apart.
    parameters: dict[str, Parameter]
    responses: dict[int, Schema | None]  # 2xx only; None: no body

    @property
    def name(self) -> str:
        return f"{self.method} {self.template} ({self.operation_id})"


@dataclass(frozen=True)
class Match:
    operation: Operation
    media: bool


class Contract:
    """The operations of one OpenAPI document, found by method and concrete URL path."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.operations: dict[tuple[str, str], Operation] = {}
        patterns = []
        for template, item in spec["paths"].items():
            for method, op in item.items():
                if method in ("get", "post", "delete", "put", "patch"):
                    self.operations[(method.upper(), template)] = self._operation(
                        method.upper(), template, op
                    )
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            patterns.append((literal, template, re.compile(regex + r"\Z")))
        # The most literal template wins: IncomingPhoneNumbers/Local.json over IncomingPhoneNumbers/{Sid}.json
        self.patterns = sorted(patterns, key=lambda p: -p[0])

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            node: Any = self.spec
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def _operation(self, method: str, template: str, op: Mapping[str, Any]) -> Operation:
        params = {
            p["name"]: Parameter(p.get("schema", {}), p.get("description", ""), bool(p.get("required")))
            for p in op.get("parameters", [])
            if p["in"] == "query"
        }
        form = self.resolve(op.get("requestBody", {}).get("content", {}).get(FORM, {}).get("schema", {}))
        required = set(form.get("required", []))
        for name, schema in form.get("properties", {}).items():
            params[name] = Parameter(schema, schema.get("description", ""), name in required)
        responses: dict[int, Schema | None] = {}
        for status, response in op.get("responses", {}).items():
            if 200 <= int(status) < 300:
                responses[int(status)] = response.get("content", {}).get("application/json", {}).get("schema")
        return Operation(method, template, op.get("operationId", "?"), params, responses)

    def template_for(self, path: str) -> str | None:
        for _, template, pattern in self.patterns:
            if pattern.match(path):
                return template
        return None

    def match(self, method: str, path: str) -> Match:
        """The operation for a concrete path, or a ContractViolation saying why there is none."""
        method = method.upper()
        media = path.endswith(MEDIA_SUFFIXES)
        lookup = path.rsplit(".", 1)[0] + ".json" if media else path
        template = self.template_for(lookup)
        if template is None or (media and not template.endswith("/Recordings/{Sid}.json")):
            raise ContractViolation(f"{method} {path}: Twilio's 2010 API has no such path")
        if media and method != "GET":
            raise ContractViolation(f"{method} {path}: recording media can only be fetched (GET)")
        operation = self.operations.get((method, template))
        if operation is None:
            known = sorted(m for m, t in self.operations if t == template)
            raise ContractViolation(
                f"{method} {template}: not an operation of Twilio's API; it allows {known}"
            )
        return Match(operation, media)

    # Requests -------------------------------------------------------------------------------------------
    def check_request(self, method: str, url: str, params: Mapping[str, WireValue] | None = None) -> Match:
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != HOST:
            raise ContractViolation(f"{url}: the loaded contract covers https://{HOST} only")
        sent: dict[str, list[str]] = {}
        for key, text in parse_qsl(parts.query, keep_blank_values=True):
            sent.setdefault(key, []).append(text)
        for key, value in (params or {}).items():
            sent[key] = [value] if isinstance(value, str) else [str(v) for v in value]
        found = self.match(method, parts.path)
        operation = found.operation
        declared = dict(operation.parameters)
        if found.media:
            declared.update({k: Parameter(s, "", False) for k, s in MEDIA_PARAMETERS.items()})
        where = operation.name + (" as media" if found.media else "")
        for name, values in sent.items():
            if name not in declared:
                allowed = ", ".join(sorted(declared)) or "(none)"
                raise ContractViolation(
                    f"{where}: `{name}` is not a parameter of this operation; allowed: {allowed}"
                )
            problem = self._wire_problem(declared[name], values)
            if problem:
                raise ContractViolation(f"{where}: `{name}` {problem}")
        missing = sorted(n for n, p in declared.items() if p.required and n not in sent)
        if missing:
            raise ContractViolation(f"{where}: required parameter(s) missing: {', '.join(missing)}")
        return found

    def _wire_problem(self, parameter: Parameter, values: list[str]) -> str | None:
        schema = self.resolve(parameter.schema)
        if schema.get("type") == "array":
            # Lists go as repeated fields; the docs also allow one value with the items separated by spaces.
            items = self.resolve(schema.get("items", {}))
            values = [word for value in values for word in value.split()]
            allowed = items.get("enum") or documented_values(parameter.description)
        else:
            if len(values) > 1:
                return f"takes one value, got {values}"
            items = schema
            allowed = schema.get("enum") or documented_values(parameter.description)
        for value in values:
            problem = _scalar_problem(items, value)
            if problem:
                return f"= {value!r}: {problem}"
            if allowed and items.get("type") != "boolean" and value not in [str(v) for v in allowed]:
                return f"= {value!r} is not one of {list(allowed)}"
        return None

    # Responses ------------------------------------------------------------------------------------------
    def check_response(self, method: str, template: str, status: int, body: Any) -> None:
        operation = self.operations.get((method.upper(), template))
        if operation is None:
            raise ContractViolation(f"{method.upper()} {template}: not an operation of Twilio's API")
        if not 200 <= status < 300:
            return  # the spec declares no error bodies
        if status not in operation.responses:
            declared = sorted(operation.responses)
            raise ContractViolation(f"{operation.name}: Twilio answers {declared}, not {status}")
        schema = operation.responses[status]
        if schema is None:
            if body not in (None, ""):
                raise ContractViolation(f"{operation.name}: a {status} answer has no body, got {body!r}")
            return
        problems: list[str] = []
        self._json_problems(schema, body, "body", problems)
        if problems:
            raise ContractViolation(f"{operation.name} -> {status}:\n  " + "\n  ".join(problems))

    def _json_problems(self, schema: Schema, value: Any, where: str, problems: list[str]) -> None:
        # OpenAPI 3.0 cannot say `nullable` next to a `$ref`, and Twilio does answer null for its $ref'd
        # enums (e.g. a live conference's reason_conference_ended), so null passes there.
        is_ref = "$ref" in schema
        schema = self.resolve(schema)
        kind = schema.get("type")
        if value is None:
            if not (schema.get("nullable") or is_ref or kind is None):
                problems.append(f"{where}: null is not allowed")
            return
        if kind and not _JSON_TYPES[kind](value):
            problems.append(f"{where}: {value!r} is not of type {kind}")
            return
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{where}: {value!r} is not one of {schema['enum']}")
        if kind == "array":
            for i, item in enumerate(value):
                self._json_problems(schema.get("items", {}), item, f"{where}[{i}]", problems)
        if isinstance(value, dict) and "properties" in schema:
            properties = schema["properties"]
            for key, item in value.items():
                if key in properties:
                    self._json_problems(properties[key], item, f"{where}.{key}", problems)
                else:
                    declared = ", ".join(properties)
                    title = schema.get("title", "this object")
                    problems.append(f"{where}.{key}: not a property of {title}; declared: {declared}")

    def success_status(self, method: str, template: str) -> int:
        """The status Twilio answers a successful call with (201 for most creates, 204 for deletes)."""
        operation = self.operations[(method.upper(), template)]
        return min(operation.responses, default=200)


_JSON_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def documented_values(description: str) -> list[str]:
    """The closed list a description gives ("Can be: `initiated`, `ringing`, … and `completed`.").

    The spec leaves many such lists out of its machine-readable schema (StatusCallbackEvent's items are plain
    strings); every "Can be:" sentence in the pinned v2010 spec is a closed list, so it is held to.
    """
    found = re.search(r"[Cc]an be:(.*?)(?:\.\s|\.?$)", description)
    return list(dict.fromkeys(re.findall(r"`([^`]*)`", found.group(1)))) if found else []


def _scalar_problem(schema: Schema, value: str) -> str | None:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "boolean" and value not in ("true", "false"):
        return "a boolean is sent as 'true' or 'false'"
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return "not an integer"
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return "not a number"
    if fmt == "date-time" and not _is_date(value):
        return "not an ISO 8601 date or date-time"
    if fmt == "uri" and value and not re.match(r"https?://[^/\s]+", value):
        return "not an absolute http(s) URL"  # an empty value clears a URL setting
    return None


def _is_date(value: str) -> bool:
    for parse in (datetime.fromisoformat, date.fromisoformat):
        try:
            parse(value)
            return True
        except ValueError:
            pass
    return False


# The loaded spec --------------------------------------------------------------------------------------
def spec_path() -> Path:
    return Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)


def load(path: Path) -> Contract:
    if not path.is_file():
        raise MissingTwilioSpec(
            f"Twilio's OpenAPI spec is not at {path}: run scripts/fetch_twilio_spec.sh "
            f"(scripts/bootstrap.sh dev does), or point {SPEC_ENV} at twilio_api_v2010.json"
        )
    return Contract(json.loads(path.read_text(encoding="utf-8")))


@functools.cache
def _cached(path: Path) -> Contract:
    return load(path)


def contract() -> Contract:
    """The contract from $TWILIO_OPENAPI_SPEC or .venv/share/twilio-oai (loaded once per path)."""
    return _cached(spec_path())


def covers(host: str) -> bool:
    """Whether requests to this host are held to the loaded contract."""
    return host == HOST


def check_request(method: str, url: str, params: Mapping[str, WireValue] | None = None) -> Match:
    """Raise ContractViolation unless Twilio's contract allows this request (params: all fields sent)."""
    return contract().check_request(method, url, params)


def check_response(method: str, path_template: str, status: int, body: Any) -> None:
    """Raise ContractViolation unless Twilio could answer this operation with this status and JSON body."""
    contract().check_response(method, path_template, status, body)
