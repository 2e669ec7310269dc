"""Declarative JSON fields: one declaration gives a value's JSON, its schema and its check.

Generic machinery under `contract.py` (which declares the anpr API with it). Like the
contract it is canonical in `inference_addon/anpr_inference/` with a byte-for-byte copy in
`custom_components/anpr/` (`script/sync-contract`), so it imports only the standard library.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field, fields
import re
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self, override

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

SCHEMA_REF: Final = "#/components/schemas/"


class ContractError(ValueError):
    """JSON that does not follow the contract; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Spec:
    """A JSON value of one kind; `what` in messages names the value (`plates[0]: 'text'`)."""

    schema_extra: Mapping[str, Any] = field(default_factory=dict)
    container: ClassVar[bool] = False
    """Containers are named by path (`health.queue`), scalars by key (`health: 'workers'`)."""

    def schema(self) -> dict[str, Any]:
        """Return the value's JSON Schema."""
        return {**self.base_schema(), **self.schema_extra}

    def base_schema(self) -> dict[str, Any]:
        """Return the schema of the kind, before `schema_extra`."""
        raise NotImplementedError

    def parse(self, value: Any, what: str) -> Any:
        """Return the checked Python value, or raise ContractError."""
        return value

    def dump(self, value: Any) -> Any:
        """Return the JSON form of a Python value."""
        return value


def _fail(message: str) -> ContractError:
    return ContractError(message)


@dataclass(frozen=True, slots=True)
class Text(Spec):
    """A string (or null when `nullable`)."""

    nullable: bool = False

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"type": ["string", "null"] if self.nullable else "string"}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if isinstance(value, str) or (self.nullable and value is None):
            return value
        raise _fail(f"{what} must be a string" + (" or null" if self.nullable else ""))


@dataclass(frozen=True, slots=True)
class Choice(Text):
    """One of `values` in the document (null among them makes it nullable); any string parses.

    A newer service may know more values than this copy of the contract.
    """

    values: Sequence[Any] = ()

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"enum": list(self.values)}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if isinstance(value, str) or (value is None and None in self.values):
            return value
        raise _fail(f"{what} must be a string" + (" or null" if None in self.values else ""))


@dataclass(frozen=True, slots=True)
class Const(Text):
    """A string that must have one value; `refusal` explains any other."""

    value: str = ""
    refusal: str = "{!r}"

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"const": self.value}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if Text.parse(self, value, what) != self.value:
            raise _fail(self.refusal.format(value))
        return value


@dataclass(frozen=True, slots=True)
class Matching(Text):
    """A string matching `pattern` (case-insensitively when parsing), stored lower case."""

    pattern: str = ""
    meaning: str = ""

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": self.pattern}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if not re.match(self.pattern, Text.parse(self, value, what).lower()):
            raise _fail(f"{what} must be {self.meaning}")
        return value.lower()


@dataclass(frozen=True, slots=True)
class Char(Text):
    """One character (the schema narrows it to plate characters)."""

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[A-Z0-9]$"}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if len(Text.parse(self, value, what)) != 1:
            raise _fail(f"{what} must be one character")
        return value


@dataclass(frozen=True, slots=True)
class Integer(Spec):
    """An integer (booleans are not)."""

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"type": "integer"}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(f"{what} must be an integer")
        return value


@dataclass(frozen=True, slots=True)
class Number(Spec):
    """A number, parsed as float; with `bounded`, within `schema_extra`'s minimum/maximum."""

    bounded: bool = False

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"type": "number"}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"{what} must be a number")
        if self.bounded:
            low, high = self.schema_extra["minimum"], self.schema_extra["maximum"]
            if not low <= value <= high:
                raise _fail(f"{what} must be between {low} and {high}")
        return float(value)


@dataclass(frozen=True, slots=True)
class Flag(Spec):
    """true or false."""

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if not isinstance(value, bool):
            raise _fail(f"{what} must be true or false")
        return value


@dataclass(frozen=True, slots=True)
class Base64(Spec):
    """Bytes sent as a base64 string."""

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"type": "string", "contentEncoding": "base64"}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if not isinstance(value, str):
            raise _fail(f"{what} must be a base64 string")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as err:
            raise _fail(f"{what} is not valid base64") from err

    @override
    def dump(self, value: Any) -> Any:
        return base64.b64encode(value).decode("ascii")


@dataclass(frozen=True, slots=True)
class ListOf(Spec):
    """A JSON array, parsed as a tuple."""

    item: Spec = field(default_factory=Spec)
    container: ClassVar[bool] = True

    @override
    def base_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.schema()}

    @override
    def parse(self, value: Any, what: str) -> Any:
        if not isinstance(value, list):
            raise _fail(f"{what} must be a list")
        return tuple(self.item.parse(item, f"{what}[{i}]") for i, item in enumerate(value))

    @override
    def dump(self, value: Any) -> Any:
        return [self.item.dump(item) for item in value]


@dataclass(frozen=True, slots=True)
class MapOf(Spec):
    """An object of named values: `keys` in the document, `needed` when parsing."""

    item: Spec = field(default_factory=Spec)
    keys: Sequence[str] = ()
    needed: Sequence[str] = ()
    container: ClassVar[bool] = True

    @override
    def base_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {key: self.item.schema() for key in self.keys},
            "required": list(self.keys),
            "additionalProperties": False,
        }

    @override
    def parse(self, value: Any, what: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(f"{what} must be an object")
        parsed = {str(key): self.item.parse(item, f"{what}.{key}") for key, item in value.items()}
        for key in self.needed:
            if key not in parsed:
                raise _fail(f"{what}: missing {key!r}")
        return parsed

    @override
    def dump(self, value: Any) -> Any:
        return {key: self.item.dump(item) for key, item in value.items()}


@dataclass(frozen=True, slots=True)
class Nested(Spec):
    """Another model: a reference to its schema, or the schema itself when `inline`."""

    model: type[Model] | None = None
    inline: bool = False
    container: ClassVar[bool] = True

    @override
    def base_schema(self) -> dict[str, Any]:
        assert self.model is not None  # noqa: S101 - always given
        if self.inline:
            return self.model.json_schema()
        return {"$ref": SCHEMA_REF + self.model.SCHEMA_NAME}

    @override
    def parse(self, value: Any, what: str) -> Any:
        assert self.model is not None  # noqa: S101 - always given
        return self.model.from_json(value, what)

    @override
    def dump(self, value: Any) -> Any:
        return value.to_json()


_REQUIRED: Final[Any] = object()


def wire(
    spec: Spec,
    doc: str | None = None,
    *,
    absent: Any = _REQUIRED,
    required: bool = True,
    repr: bool = True,  # noqa: A002 - the name dataclasses.field uses
) -> Any:
    """Declare a model field: its spec, its description, and what is used when it is absent.

    `absent` is for fields that older services do not send: parsing uses it, and it is the
    Python default (an empty dict: a new one each time). Fields with `required=False` are
    also left out of the JSON while None. `wire()` returns a `dataclasses.field`.
    """
    metadata = {"spec": spec, "doc": doc, "absent": absent, "required": required}
    if absent is _REQUIRED:
        return field(metadata=metadata, repr=repr)
    if absent == {}:
        return field(default_factory=dict, metadata=metadata, repr=repr)
    return field(default=absent, metadata=metadata, repr=repr)


class Model:
    """Base of the wire models: JSON out, validated JSON in, JSON Schema."""

    __slots__ = ()
    SCHEMA_NAME: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str | None] = None

    @classmethod
    def from_json(cls, data: Any, what: str) -> Self:
        """Build the model from parsed JSON, checking everything; `what` names it in errors."""
        if not isinstance(data, dict):
            raise _fail(f"{what} must be an object")
        values: dict[str, Any] = {}
        for item in fields(cls):  # type: ignore[arg-type]
            spec, absent = item.metadata["spec"], item.metadata["absent"]
            if item.name not in data:
                if absent is _REQUIRED:
                    raise _fail(f"{what}: missing {item.name!r}")
                values[item.name] = absent
                continue
            at = f"{what}.{item.name}" if spec.container else f"{what}: {item.name!r}"
            values[item.name] = spec.parse(data[item.name], at)
        factory: Callable[..., Self] = cls
        made = factory(**values)
        made.check(what)
        return made

    def check(self, what: str) -> None:
        """Check rules between fields (after each field is checked on its own)."""

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form, as the service sends it."""
        out: dict[str, Any] = {}
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if value is None and not item.metadata["required"]:
                continue
            out[item.name] = item.metadata["spec"].dump(value)
        return out

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """Return the model's JSON Schema, for the OpenAPI document."""
        properties: dict[str, Any] = {}
        for item in fields(cls):  # type: ignore[arg-type]
            schema = item.metadata["spec"].schema()
            if item.metadata["doc"]:
                schema["description"] = item.metadata["doc"]
            properties[item.name] = schema
        schema = {
            "type": "object",
            "properties": properties,
            "required": [item.name for item in fields(cls) if item.metadata["required"]],  # type: ignore[arg-type]
            "additionalProperties": False,
        }
        return {**schema, "description": cls.DESCRIPTION} if cls.DESCRIPTION else schema
