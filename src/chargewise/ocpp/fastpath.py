"""A fast first check: the official JSON schemas translated into msgspec types, once, at start-up.

``msgspec.convert`` checks a MeterValues payload in a few microseconds, several times faster than the
generated fastjsonschema code. It is only a fast *accept*: when it refuses a payload, the caller runs the
full JSON-schema check, which decides, names the violation and applies leniency. So the translation must
never accept what the schema refuses; where a schema uses a keyword not translated here, that action has no
fast path (:func:`translate` returns None) and every payload takes the full check.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

# keywords that do not constrain (or that we deliberately ignore: defaults are never filled in)
_INERT = {"description", "javaType", "comment", "title", "$schema", "$id", "id", "default", "tsEnumNames"}
# RFC 3339 date-time shape, the same rule as the schema check's format function (``schemas._date_time``)
# (``\Z``, not ``$``, which would let a trailing newline through)
DATE_TIME_SHAPE = r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:?\d\d)?"
DATE_TIME = rf"^{DATE_TIME_SHAPE}\Z"


class Untranslatable(Exception):
    """The schema uses something this translator does not handle: no fast path for it."""


def translate(schema: dict[str, Any], name: str) -> Any | None:
    """The msgspec type equivalent to ``schema`` (a top-level OCPP payload schema), or None."""
    try:
        return _Translator(schema.get("definitions", {}), name).type_of(schema, name)
    except Untranslatable:
        return None


class _Translator:
    def __init__(self, definitions: dict[str, Any], prefix: str) -> None:
        self.definitions = definitions
        self.prefix = prefix
        self.done: dict[str, Any] = {}

    def type_of(self, schema: dict[str, Any], name: str) -> Any:
        if "$ref" in schema:
            return self._ref(schema["$ref"])
        if isinstance(schema.get("items"), dict):  # additionalItems only applies to tuple-form items
            schema = {k: v for k, v in schema.items() if k != "additionalItems"}
        unknown = set(schema) - _INERT - {"type", "properties", "required", "additionalProperties", "items",
                                          "minItems", "maxItems", "maxLength", "minLength", "enum", "format",
                                          "minimum", "maximum", "definitions"}  # fmt: skip
        if unknown:
            raise Untranslatable(f"{name}: {sorted(unknown)}")
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema, name)
        if kind == "array":
            return self._array(schema, name)
        if kind == "string":
            return self._string(schema)
        if kind in ("integer", "number"):
            return self._number(schema, int if kind == "integer" else float)
        if kind == "boolean":
            return bool
        if kind is None and set(schema) <= _INERT:
            return Any  # no constraint at all (2.0.1 DataTransfer data)
        raise Untranslatable(f"{name}: type {kind!r}")

    def _ref(self, ref: str) -> Any:
        key = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/definitions/") or key not in self.definitions:
            raise Untranslatable(ref)
        if key not in self.done:
            self.done[key] = self.type_of(self.definitions[key], key)
        return self.done[key]

    def _object(self, schema: dict[str, Any], name: str) -> Any:
        required = set(schema.get("required", []))
        fields: list[Any] = []
        for prop, sub in schema.get("properties", {}).items():
            field_type = self.type_of(sub, f"{name}_{prop}")
            if prop in required:
                fields.append((prop, field_type))
            else:
                fields.append((prop, field_type | msgspec.UnsetType, msgspec.UNSET))
        if required - set(schema.get("properties", {})):
            raise Untranslatable(f"{name}: required field without a property schema")
        extra = schema.get("additionalProperties", True)
        if extra not in (True, False):
            raise Untranslatable(f"{name}: additionalProperties schema")
        fields.sort(key=lambda f: len(f) == 3)  # required fields first
        safe = re.sub(r"\W", "_", f"{self.prefix}_{name}")
        return msgspec.defstruct(safe, fields, kw_only=True, forbid_unknown_fields=extra is False)

    def _array(self, schema: dict[str, Any], name: str) -> Any:
        if "items" not in schema or not isinstance(schema["items"], dict):
            raise Untranslatable(f"{name}: array items")
        meta = _meta(min_length=schema.get("minItems"), max_length=schema.get("maxItems"))
        item = self.type_of(schema["items"], f"{name}_item")
        return Annotated[list[item], meta] if meta else list[item]  # type: ignore[valid-type]

    def _string(self, schema: dict[str, Any]) -> Any:
        if "enum" in schema:
            if not all(isinstance(v, str) for v in schema["enum"]):
                raise Untranslatable("non-string enum")
            return Literal[tuple(schema["enum"])]
        fmt = schema.get("format")
        if fmt not in (None, "date-time"):
            raise Untranslatable(f"format {fmt}")
        meta = _meta(
            min_length=schema.get("minLength"), max_length=schema.get("maxLength"),
            pattern=DATE_TIME if fmt == "date-time" else None,
        )  # fmt: skip
        return Annotated[str, meta] if meta else str

    def _number(self, schema: dict[str, Any], kind: type) -> Any:
        if "enum" in schema:
            raise Untranslatable("numeric enum")
        bounds = [schema.get("minimum"), schema.get("maximum")]
        if kind is int:  # msgspec wants integer bounds for int
            if any(b is not None and not float(b).is_integer() for b in bounds):
                raise Untranslatable("fractional bound on an integer")
            bounds = [None if b is None else int(b) for b in bounds]
        meta = _meta(ge=bounds[0], le=bounds[1])
        return Annotated[kind, meta] if meta else kind


def _meta(**constraints: Any) -> msgspec.Meta | None:
    given = {k: v for k, v in constraints.items() if v is not None}
    return msgspec.Meta(**given) if given else None


class FastCheck:
    """``accepts(payload)``: True means the payload certainly conforms to the schema."""

    __slots__ = ("_type",)

    def __init__(self, msgspec_type: Any) -> None:
        self._type = msgspec_type

    def accepts(self, payload: Any) -> bool:
        try:
            msgspec.convert(payload, self._type, strict=True)
        except msgspec.ValidationError:
            return False
        return True
