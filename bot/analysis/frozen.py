"""A faster ``__init__`` for the frozen dataclasses built once or more per mention.

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__``,
a generic attribute lookup per field. With ``slots=True`` every field is a slot whose
descriptor can set it directly, which makes building the objects of one analysis
(analysis, signals, intent, flags...) about twice as fast. The class is otherwise
unchanged: still frozen, the same fields, defaults, equality, hash and repr.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

_C = TypeVar("_C", bound=type)


def fast_init(cls: _C) -> _C:
    """Give ``cls`` (a frozen dataclass with slots, plain fields with or without a
    default, no ``default_factory``, ``init=False`` or keyword-only field) an
    ``__init__`` taking the same arguments that sets each slot through its descriptor,
    then calls ``__post_init__`` when the class has one."""
    params = dataclasses.fields(cls)
    if not (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
            and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")
    scope: dict[str, object] = {}
    signature: list[str] = []
    body: list[str] = []
    for n, field in enumerate(params):
        if (field.default_factory is not dataclasses.MISSING or not field.init
                or field.kw_only):
            raise TypeError(f"{cls.__name__}.{field.name}: not a plain field")
        scope[f"_set_{n}"] = cls.__dict__[field.name].__set__
        if field.default is dataclasses.MISSING:
            signature.append(field.name)
        else:
            scope[f"_default_{n}"] = field.default
            signature.append(f"{field.name}=_default_{n}")
        body.append(f"    _set_{n}(self, {field.name})\n")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()\n")
    source = f"def __init__(self, {', '.join(signature)}):\n{''.join(body)}"
    exec(source, scope)  # noqa: S102 - built from the field names of the class only
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    init.__doc__ = cls.__init__.__doc__  # type: ignore[misc]
    cls.__init__ = init  # type: ignore[misc]
    return cls
