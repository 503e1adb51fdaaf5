"""The namespace classes of both client shapes: the generated ones, taking `params` by keyword too.

The generated methods take `params` by position only, while decthings-api 0.0.4 declares
`def get_models(self, params)`, so `get_models(params={})` is valid code there. Each generated class
is subclassed once here with methods that take `params` either way and then call the generated
method (which stays the one place that names the wire method). The published (tuple) shape gets its
own subclasses, whose signatures and docs say what they return; what they return is up to the
invoker the client gives them (see `_published`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PUBLISHED_RETURNS", "keyword_namespaces"]

PUBLISHED_RETURNS = (
    "Returns `(result, None)`, or `(None, error)` when the API answers with an error: `error` is the "
    "API's error dict, such as {'code': 'model_not_found'} (decthings-api 0.0.4's shape). Transport "
    "failures and bad params raise modelwire errors."
)


def keyword_namespaces(
    namespaces: Mapping[str, type], *, published: bool = False, base: type | None = None
) -> dict[str, type]:
    """`{name: subclass}` for the generated `{name: class}` map of a client (see the module doc).

    `base` is mixed in first (the published shape's typing base)."""
    return {name: _subclass(cls, published, base) for name, cls in namespaces.items()}


@functools.cache
def _subclass(cls: type, published: bool, base: type | None) -> type:
    body: dict[str, Any] = {"__slots__": (), "__module__": __name__, "__doc__": cls.__doc__}
    for name, fn in vars(cls).items():
        if not name.startswith("_") and inspect.isfunction(fn):
            body[name] = _method(fn, published)
    bases = (cls,) if base is None else (base, cls)
    return type(cls.__name__, bases, body)


def _method(fn: Callable[..., Any], published: bool) -> Callable[..., Any]:
    signature = inspect.signature(fn)
    names = list(signature.parameters)
    if names != ["self", "params", "timeout"]:
        # The generator's contract changed: better to stop at import than to drop an argument.
        raise RuntimeError(f"unexpected signature of the generated {fn.__qualname__}: {signature}")
    required = signature.parameters["params"].default is inspect.Parameter.empty
    method = _WRAPPERS[(inspect.iscoroutinefunction(fn), required)](fn)
    functools.update_wrapper(method, fn)
    parameters = [
        p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) if p.name == "params" else p
        for p in signature.parameters.values()
    ]
    returns = signature.return_annotation
    if published:
        returns = f"tuple[{returns} | None, dict[str, Any] | None]"
        method.__doc__ = f"{inspect.cleandoc(fn.__doc__ or '')}\n\n{PUBLISHED_RETURNS}"
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=returns
    )
    return method


# One wrapper per (async?, params required?): the wrapper's own signature is what Python binds the
# call against, so a missing required `params` is still a TypeError, as in 0.0.4.


def _async_required(fn: Callable[..., Any]) -> Callable[..., Any]:
    async def method(self: Any, params: Any, *, timeout: float | None = None) -> Any:
        return await fn(self, params, timeout=timeout)

    return method


def _async_optional(fn: Callable[..., Any]) -> Callable[..., Any]:
    async def method(self: Any, params: Any = None, *, timeout: float | None = None) -> Any:
        return await fn(self, params, timeout=timeout)

    return method


def _sync_required(fn: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, params: Any, *, timeout: float | None = None) -> Any:
        return fn(self, params, timeout=timeout)

    return method


def _sync_optional(fn: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, params: Any = None, *, timeout: float | None = None) -> Any:
        return fn(self, params, timeout=timeout)

    return method


_WRAPPERS: dict[tuple[bool, bool], Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    (True, True): _async_required,
    (True, False): _async_optional,
    (False, True): _sync_required,
    (False, False): _sync_optional,
}
