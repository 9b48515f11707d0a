"""One string-alias lookup for every pluggable object (losses, fairness terms, calibrators,
weighting strategies, decision rules).

Torch-free: the registries of torch objects hold their classes, and this module only calls
them. Each registry maps an alias to a zero-argument callable that builds a default instance
(a class, or a ``functools.partial`` of one for a preset).
"""

from sklearn.base import clone

__all__ = ["resolve_alias"]


def resolve_alias(value, registry, *, param, base, example, allow_none=False):
    """A fresh object for a string alias of ``registry`` or an instance of ``base``.

    Parameters
    ----------
    value : str, object or None
        An alias (a key of ``registry``) or an instance of ``base`` (cloned, so the caller's
        object is never modified).
    registry : dict of str to callable
        Alias to a zero-argument factory of a default instance.
    param : str
        The parameter's name, used in error messages (``"loss"``, ``"fairness"``, ...).
    base : type or tuple of type
        The accepted class(es) of objects.
    example : str
        An example object for the error message, e.g.
        ``"sklearn_fairloss.losses.CrossEntropyLoss()"``.
    allow_none : bool, default=False
        Whether ``None`` is accepted (and returned as is).

    Returns
    -------
    object or None
        A new instance.

    Raises
    ------
    ValueError
        For an unknown alias (the message lists the valid ones).
    TypeError
        For anything else that is not an instance of ``base``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_fairloss._registry import resolve_alias
    >>> resolve_alias("lr", {"lr": LogisticRegression}, param="model",
    ...               base=LogisticRegression, example="LogisticRegression()")
    LogisticRegression()
    """
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        try:
            factory = registry[value]
        except KeyError:
            raise ValueError(
                f"Unknown {param} {value!r}. Valid string aliases: {sorted(registry)}, "
                f"or pass an object such as {example}."
            ) from None
        return factory()
    if isinstance(value, base):
        return clone(value)
    bases = base if isinstance(base, tuple) else (base,)
    names = " or ".join(f"{b.__module__.split('._')[0]}.{b.__name__}" for b in bases)
    none = "None, " if allow_none else ""
    raise TypeError(
        f"{param} must be {none}a string alias or an instance of {names}; "
        f"got {type(value).__name__}."
    )
