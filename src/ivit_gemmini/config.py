"""The workflow configuration: defaults and validation against the JSON schema, in one line.

Snakemake's own `validate` prints a multi-line jsonschema report; users get one line here:
which key is wrong, what was expected, where the keys are documented. Defaults from the schema
are filled in first (nested sections too), so rules can read every key without `.get`.
"""

from __future__ import annotations

import copy
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ivit_gemmini.errors import UserError

DOCS = "config/README.md"


def load_schema(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def fill_defaults(config: MutableMapping[str, Any], schema: dict[str, Any]) -> None:
    """Set every missing key that has a `default` in `schema`, recursing into objects."""
    for key, sub in schema.get("properties", {}).items():
        if key not in config and "default" in sub:
            config[key] = copy.deepcopy(sub["default"])
        if isinstance(config.get(key), MutableMapping) and "properties" in sub:
            fill_defaults(config[key], sub)


def _where(path: list[Any]) -> str:
    return ".".join(str(p) for p in path) or "top level"


def one_line(error: jsonschema.ValidationError) -> str:
    """A jsonschema error as one line naming the key."""
    key = _where(list(error.absolute_path))
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        names = ", ".join(repr(k) for k in unknown)
        return (f"config: unknown key {names} in {key} (known keys: {', '.join(allowed)}); "
                f"see {DOCS}")
    if error.validator == "enum":
        choices = ", ".join(repr(c) for c in error.validator_value)
        return f"config '{key}': {error.instance!r} is not one of {choices}; see {DOCS}"
    if error.validator == "type":
        want = error.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return f"config '{key}': {error.instance!r} has the wrong type, expected {want}; see {DOCS}"
    if error.validator in ("oneOf", "anyOf"):
        description = error.schema.get("description", "")
        hint = f" ({description.rstrip('.')})" if description else ""
        return f"config '{key}': {error.instance!r} has the wrong type{hint}; see {DOCS}"
    return f"config '{key}': {error.message}; see {DOCS}".replace("\n", " ")


def validate_config(config: MutableMapping[str, Any], schema: dict[str, Any]) -> None:
    """Fill defaults into `config` in place and validate it; UserError with one line if bad."""
    fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(dict(config)))
    if errors:
        # Report the shallowest error first: an unknown top-level key beats its consequences.
        rank = {"additionalProperties": 0, "type": 1}
        best = min(errors, key=lambda e: (len(e.absolute_path), rank.get(str(e.validator), 2)))
        raise UserError(one_line(best))
