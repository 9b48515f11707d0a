"""The parameter descriptions that several fairness classes share, written once.

A class docstring names a shared block by a placeholder line ``{key}`` where the block belongs
(indented like the surrounding lines); :func:`fill_doc` replaces it with ``DOC_FRAGMENTS[key]``
re-indented to match, so the rendered docstring (``help``, numpydoc, doctests) is the same as
if the text had been written out in place.
The mechanism is the package's one, :mod:`sklearn_fairloss._docstrings`.
"""

from .._docstrings import doc_filler

__all__ = ["DOC_FRAGMENTS", "fill_doc"]

#: Shared docstring blocks, written without indentation (numpydoc layout).
DOC_FRAGMENTS = {
    "warmup": """\
warmup : int, default=0
    Number of epochs over which the fairness strength ramps up linearly, from
    ``fairness_strength / warmup`` in the first epoch to ``fairness_strength`` (``0``:
    the full strength from the start). Applied by the callback that :meth:`callbacks`
    declares, on training batches only.""",
    "parity_parameters": """\
Parameters
----------
aggregate : {"mean", "max"}, default="mean"
    How the absolute gaps ``|r_g - r|`` are combined, over groups and (one-vs-rest)
    classes within an attribute, then over attributes. ``"mean"`` (the default) is an
    unweighted mean over the groups present in the batch, so a small group counts as
    much as a large one; it gives every group a gradient at every step and averages out
    the sampling noise of small groups in a mini-batch. ``"max"`` penalises only the worst
    gap, which matches the max-min form of the reported metrics (fairlearn's
    ``*_difference``), at the cost of a noisier, one-group-at-a-time gradient; prefer it
    with large or group-stratified batches. Both are zero exactly when all gaps are.
intersectional : bool, default=False
    With several attributes, ``False`` computes the gaps of each attribute separately
    and aggregates them; ``True`` uses the cells of the combination of the attributes
    (e.g. "female x over 60") as the groups, which also catches disparities that cancel
    out on each attribute alone ("fairness gerrymandering", Kearns et al. 2018).
{warmup}""",
}

fill_doc = doc_filler(DOC_FRAGMENTS)
