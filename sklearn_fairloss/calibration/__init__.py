"""Calibration: post-hoc calibrators fitted on held-out logits, globally or per group.

The post-hoc calibrators live in :mod:`sklearn_fairloss.postprocessing` (torch-free) and are
re-exported here: :class:`TemperatureScaling`, :class:`VectorScaling`, :class:`MatrixScaling`,
:class:`IsotonicCalibration`, :class:`MonotoneCubicScaling`, :class:`GroupTemperatureScaling`,
their base class :class:`PostCalibratorBase`, and :func:`get_post_calibrator` with its aliases
:data:`POST_CALIBRATORS` (for ``FairLossClassifier(post_calibration=...)``).

Training-time terms (torch; imported lazily, so that the post-hoc calibrators above do not
import torch):

- data losses: :class:`SampleDependentFocalLoss` (FLSD-53), :class:`EnsLoss`,
  :class:`CaPELoss`, re-exported from :mod:`sklearn_fairloss.losses`, where they live;
- additive penalties: :class:`CalibrationPenaltyBase`, :class:`MMCEPenalty`,
  :class:`DCAPenalty`;
- :class:`CorrectnessAwareCalibrator`, a post-hoc calibrator that needs the model
  (``fit(logits_fn, X, y)``), not only its logits.
"""

from ..postprocessing import (
    POST_CALIBRATORS,
    GroupTemperatureScaling,
    IsotonicCalibration,
    MatrixScaling,
    MonotoneCubicScaling,
    PostCalibratorBase,
    TemperatureScaling,
    VectorScaling,
    get_post_calibrator,
)

__all__ = [
    "POST_CALIBRATORS",
    "GroupTemperatureScaling",
    "IsotonicCalibration",
    "MatrixScaling",
    "MonotoneCubicScaling",
    "PostCalibratorBase",
    "TemperatureScaling",
    "VectorScaling",
    "get_post_calibrator",
]

# Training-time terms, imported on first access (they need torch).
_LAZY = {
    "CALIBRATION_PENALTIES": "._penalties",
    "get_calibration_penalty": "._penalties",
    "CalibrationPenaltyBase": "._penalties",
    "MMCEPenalty": "._penalties",
    "DCAPenalty": "._penalties",
    "SampleDependentFocalLoss": "..losses",
    "EnsLoss": "..losses",
    "CaPELoss": "..losses",
    "CorrectnessAwareCalibrator": "._correctness",
}
__all__ += list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
