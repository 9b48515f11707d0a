"""Declarative parameter constraints, checked once when ``fit`` starts.

Every pluggable object (loss, fairness term, calibration term, post-hoc calibrator,
weighting strategy, decision rule) and the estimator itself declare
``_parameter_constraints``: a dict from each constructor parameter to a list of constraints,
any one of which the value must meet (scikit-learn's convention). :func:`validate_params`
raises one short ``ValueError`` that names the parameter, says what was expected and shows
what was given, for example::

    gamma must be a real number in [0, inf); got -1.0.

The constraint objects are ours (not ``sklearn.utils._param_validation``, a private module):
they produce the package's own messages and keep the package off scikit-learn's private API.
``None`` in a constraint list accepts ``None``.

Torch-free, so that every layer can use it.
"""

import math
import numbers

__all__ = [
    "Callable",
    "InstanceOf",
    "Integer",
    "Options",
    "ParamsValidationMixin",
    "Real",
    "Satisfies",
    "validate_params",
]


class Real:
    """A real number (not a bool) in an interval; ``None`` bounds are unbounded.

    ``noun`` names the kind in messages (``"real number"`` by default).
    """

    def __init__(self, low=None, high=None, *, low_open=False, high_open=False,
                 noun="real number", finite=True):
        self.low, self.high = low, high
        self.low_open, self.high_open = low_open, high_open
        self.noun = noun
        self.finite = finite

    def is_satisfied_by(self, value):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            return False
        value = float(value)
        if math.isnan(value) or (self.finite and math.isinf(value)):
            return False
        if self.low is not None and not (value > self.low if self.low_open
                                         else value >= self.low):
            return False
        return self.high is None or (value < self.high if self.high_open
                                     else value <= self.high)

    def __str__(self):
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        lower = "-inf" if self.low is None else f"{self.low:g}"
        upper = "inf" if self.high is None else f"{self.high:g}"
        return f"a {self.noun} in {left}{lower}, {upper}{right}"


class Integer(Real):
    """An integer (not a bool) in a closed interval; ``Integer(1)`` reads "a positive
    integer", ``Integer(0)`` "a non-negative integer"."""

    def __init__(self, low=None, high=None):
        super().__init__(low, high, noun="integer")

    def is_satisfied_by(self, value):
        return (isinstance(value, numbers.Integral) and not isinstance(value, bool)
                and super().is_satisfied_by(value))

    def __str__(self):
        if self.high is None and self.low in (0, 1):
            return "a positive integer" if self.low == 1 else "a non-negative integer"
        return super().__str__()


class Options:
    """One of a fixed set of values (strings, usually)."""

    def __init__(self, *values):
        self.values = values

    def is_satisfied_by(self, value):
        return isinstance(value, (str, bool, numbers.Number)) and value in self.values

    def __str__(self):
        return f"one of {sorted(self.values, key=str)}"


class InstanceOf:
    """An instance of a class (or of one of a tuple of classes); ``description`` names it."""

    def __init__(self, types, description=None):
        self.types = types
        self.description = description

    def is_satisfied_by(self, value):
        return isinstance(value, self.types)

    def __str__(self):
        if self.description:
            return self.description
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        return "an instance of " + " or ".join(t.__name__ for t in types)


class Callable:
    """A callable."""

    def is_satisfied_by(self, value):
        return callable(value)

    def __str__(self):
        return "a callable"


class Satisfies:
    """Any value for which ``test(value)`` is true; ``description`` says what that means."""

    def __init__(self, test, description):
        self.test = test
        self.description = description

    def is_satisfied_by(self, value):
        return bool(self.test(value))

    def __str__(self):
        return self.description


def _describe(constraint):
    return "None" if constraint is None else str(constraint)


def validate_params(obj, constraints=None):
    """Check the parameters of ``obj`` against ``constraints`` (default: its
    ``_parameter_constraints``); raise a ``ValueError`` naming the first bad one.

    Parameters
    ----------
    obj : object
        An object whose constructor parameters are attributes of the same name.
    constraints : dict of str to list, default=None
        Parameter name to a list of accepted constraints (``None`` accepts ``None``).

    Raises
    ------
    ValueError
        ``"<name> must be <what>; got <value>."``

    Examples
    --------
    >>> from sklearn_fairloss._param_validation import Real, validate_params
    >>> class Focal:
    ...     _parameter_constraints = {"gamma": [Real(0)]}
    ...     def __init__(self, gamma=2.0):
    ...         self.gamma = gamma
    >>> validate_params(Focal(gamma=1.0))
    >>> validate_params(Focal(gamma=-1.0))
    Traceback (most recent call last):
    ...
    ValueError: gamma must be a real number in [0, inf); got -1.0.
    """
    if constraints is None:
        constraints = getattr(type(obj), "_parameter_constraints", {})
    for name, accepted in constraints.items():
        value = getattr(obj, name)
        if any(value is None if c is None else c.is_satisfied_by(value) for c in accepted):
            continue
        what = " or ".join(_describe(c) for c in accepted)
        raise ValueError(f"{name} must be {what}; got {value!r}.")


class ParamsValidationMixin:
    """Gives ``_validate_params()`` (scikit-learn's name) from ``_parameter_constraints``.

    Objects used inside training (losses, penalties) also validate lazily on first use, so a
    direct call ``FocalLoss(gamma=-1)(logits, y)`` fails the same way; ``set_params`` makes
    the next use validate again. The estimator calls ``_validate_params()`` on each object
    when ``fit`` starts, before any training.
    """

    _parameter_constraints = {}

    def _validate_params(self):
        validate_params(self)
        self.__dict__["_params_validated"] = True
        self._check_params()
        return self

    def _check_params(self):
        """Cross-parameter checks that constraints cannot express; override when needed."""

    def _ensure_validated(self):
        """Validate once (cheap afterwards): call at the top of ``forward``/``fit``."""
        if not self.__dict__.get("_params_validated", False):
            self._validate_params()

    def set_params(self, **params):
        self.__dict__["_params_validated"] = False
        return super().set_params(**params)
