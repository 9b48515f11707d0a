"""The contract every data loss of the package follows.

A loss is a small ``torch.nn.Module`` that is also a scikit-learn style parameter holder
(``get_params``/``set_params``, ``clone``-able, picklable; see
:class:`~sklearn_fairloss._torch_utils.ParamsModule`), so that ``GridSearchCV`` can tune
``loss__gamma`` on :class:`~sklearn_fairloss.FairLossClassifier`.

Contract
--------
- ``forward(logits, y, sample_weight=None)`` returns a scalar tensor.
  ``logits`` has shape ``(n, n_classes)`` (binary included: two columns), ``y`` holds integer
  class codes ``0 .. n_classes - 1`` (int64, shape ``(n,)``), ``sample_weight`` is ``None`` or a
  float tensor of shape ``(n,)``.
- Per-row losses are reduced with :func:`weighted_mean`: ``sum(w * loss) / sum(w)``, the
  normalisation of scikit-learn's ``MLPClassifier``, so that weight 2 on a row equals
  duplicating it. Such a loss implements :meth:`LossBase.per_sample_loss` and has the class
  attribute ``per_sample = True``; a loss over a whole batch implements ``forward`` and has
  ``per_sample = False``. Group scalings of :mod:`sklearn_fairloss.fairness` need the former.
- The value stays finite on a batch that holds a single class.
- Constructor parameters are stored untouched and declared in ``_parameter_constraints``;
  they are checked once, on first use or when the estimator calls ``_validate_params()``
  at the start of ``fit``. Anything learned from the training data (class priors, counts)
  is set by :meth:`LossBase.set_class_counts` on a *clone* made by the estimator in ``fit``
  and kept as registered buffers, so that ``.to(device)`` moves them.
- A loss that changes from epoch to epoch overrides :meth:`LossBase.set_epoch`; its
  :meth:`LossBase.callbacks` then include :class:`~sklearn_fairloss._callbacks.LossSchedule`,
  the skorch callback that calls it at the start of every epoch.
"""

from .._callbacks import LossSchedule
from .._torch_utils import ParamsModule, weighted_mean

__all__ = ["LossBase"]


class LossBase(ParamsModule):
    """Base class of the package's data losses.

    Subclasses call ``super().__init__()`` first, then store their constructor parameters
    unchanged, and implement either :meth:`per_sample_loss` (losses that are a mean of
    per-row terms) or ``forward`` itself (losses over a whole batch, such as Dice or AUC).

    Attributes
    ----------
    per_sample : bool
        Class attribute: whether the loss is the weighted mean of :meth:`per_sample_loss`
        (what group scalings reweight). Unless a subclass sets it, it is ``True`` for a
        class that defines ``per_sample_loss``, ``False`` for one that defines only
        ``forward``, and inherited otherwise.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import LossBase
    >>> class SquaredMargin(LossBase):
    ...     def per_sample_loss(self, logits, y):
    ...         return (1 - logits.gather(1, y[:, None]).squeeze(1)) ** 2
    >>> loss = SquaredMargin()
    >>> float(loss(torch.zeros(2, 2), torch.tensor([0, 1])))
    1.0
    >>> SquaredMargin.per_sample
    True
    """

    per_sample = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "per_sample" not in cls.__dict__:
            if "per_sample_loss" in cls.__dict__:
                cls.per_sample = True
            elif "forward" in cls.__dict__:
                cls.per_sample = False

    def set_class_counts(self, class_counts):
        """Learn what the loss needs from the training labels (called on a clone in ``fit``).

        Parameters
        ----------
        class_counts : torch.Tensor of shape (n_classes,)
            (Weighted) number of training rows in each class.

        Returns
        -------
        self
        """
        return self

    def per_sample_loss(self, logits, y):
        """Per-row loss values, shape ``(n,)``; implemented by subclasses."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement per_sample_loss or forward."
        )

    def forward(self, logits, y, sample_weight=None):
        """Weighted mean of :meth:`per_sample_loss` (see :func:`weighted_mean`)."""
        self._ensure_validated()
        return weighted_mean(self.per_sample_loss(logits, y), sample_weight)

    def set_epoch(self, epoch, max_epochs):
        """Tell the loss which training epoch is about to start.

        Losses with a schedule (for example LDAM's deferred re-weighting) override this;
        the default does nothing. :class:`~sklearn_fairloss._callbacks.LossSchedule`, which
        :meth:`callbacks` declares for such losses, calls it at the start of every epoch.

        Parameters
        ----------
        epoch : int
            Index of the epoch about to start, counting from 0.
        max_epochs : int
            Number of epochs the estimator will run at most.

        Returns
        -------
        self
        """
        return self

    def callbacks(self):
        """The skorch callbacks of the loss's epoch schedule.

        Returns
        -------
        list of (str, skorch.callbacks.Callback)
            ``[("loss_schedule", LossSchedule())]`` when the loss overrides
            :meth:`set_epoch` (so that it hears every epoch), else ``[]``.
        """
        if type(self).set_epoch is not LossBase.set_epoch:
            return [("loss_schedule", LossSchedule())]
        return []

    def schedule_unfinished(self, kept_epoch, max_epochs):
        """A message when the loss's epoch schedule never acted on the model kept at the
        0-based epoch ``kept_epoch`` (training stopped early), else None (the default).

        Losses with a schedule (LDAM's deferred re-weighting, CaPE's calibration epochs)
        override it; the estimator warns with the message.
        """
        return None

    def log_prior_shift(self, n_classes):
        """Additive shift of the log-probabilities that this loss teaches the model.

        Losses that train the model towards a shifted prior (logit adjustment, balanced
        softmax, ...) return the log of that shift, shape ``(n_classes,)``, so that
        ``predict_proba`` can undo it. ``None`` (the default) means no shift.
        """
        return None
