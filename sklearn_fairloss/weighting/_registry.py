"""String aliases of the weighting strategies and :func:`check_strategy`."""

from .._registry import resolve_alias
from ._base import WeightingStrategy
from ._class_balanced import ClassBalanced
from ._group_balanced import GroupBalanced
from ._reweighing import Reweighing
from ._temperature import TemperatureSampling

__all__ = ["STRATEGIES", "check_strategy"]

#: Maps each string alias to the strategy class (built with its default parameters).
STRATEGIES = {
    "reweighing": Reweighing,
    "class_balanced": ClassBalanced,
    "group_balanced": GroupBalanced,
    "temperature": TemperatureSampling,
}

MSG_STRATEGY_TYPE = (
    "strategy must be a WeightingStrategy instance (for example Reweighing()) or one of {}; "
    "got {!r} of type {}."
)


def check_strategy(strategy):
    """Return a fresh, unfitted strategy from an instance or a string alias.

    Parameters
    ----------
    strategy : WeightingStrategy or str
        A strategy instance (it is cloned, never modified) or one of the aliases
        ``"reweighing"``, ``"class_balanced"``, ``"group_balanced"``, ``"temperature"``
        (the class with its default parameters).

    Returns
    -------
    strategy : WeightingStrategy
        A new, unfitted instance.

    Raises
    ------
    ValueError
        For an unknown alias.
    TypeError
        For anything else that is not a :class:`WeightingStrategy`.

    Examples
    --------
    >>> from sklearn_fairloss.weighting import check_strategy
    >>> check_strategy("class_balanced")
    ClassBalanced()
    """
    if not isinstance(strategy, (str, WeightingStrategy)):
        raise TypeError(MSG_STRATEGY_TYPE.format(sorted(STRATEGIES), strategy,
                                                 type(strategy).__name__))
    return resolve_alias(strategy, STRATEGIES, param="sample-weight strategy",
                         base=WeightingStrategy,
                         example="sklearn_fairloss.weighting.Reweighing()")
