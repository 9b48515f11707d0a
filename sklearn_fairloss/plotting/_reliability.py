"""Reliability diagram with one curve per protected group: :class:`ReliabilityDisplay`."""

import inspect

import numpy as np

from .._groups import GroupEncoder
from .._validation import check_sample_weight, default_pos_label, split_sensitive_columns
from ..metrics import calibration_bins

__all__ = ["ReliabilityDisplay"]


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in the tests
        raise ImportError(
            "ReliabilityDisplay needs matplotlib: pip install matplotlib "
            "(or sklearn-fairloss[plot])."
        ) from exc
    return plt


def _bin_curve(conf, outcome, weight, n_bins, strategy):
    """The bins of :func:`~sklearn_fairloss.metrics.calibration_bins`: the edges, the weight
    of every bin and the mean outcome, mean confidence and weight of the non-empty bins."""
    bins = calibration_bins(conf, outcome, n_bins=n_bins, strategy=strategy,
                            sample_weight=weight)
    keep = bins.weight > 0
    return (bins.edges, bins.weight, bins.mean_outcome[keep], bins.mean_confidence[keep],
            bins.weight[keep])


class ReliabilityDisplay:
    """Reliability diagram: one calibration curve per protected group, with bin counts.

    For binary targets a curve plots, per bin of the predicted probability of the positive
    class, the mean prediction against the fraction of positives, as
    :class:`sklearn.calibration.CalibrationDisplay` does (the per-bin values are those of
    :func:`sklearn.calibration.calibration_curve` on each group). For multiclass targets it
    plots the top-label confidence against the accuracy (Guo et al. 2017, "On Calibration of
    Modern Neural Networks", ICML). One curve per group shows whether the probabilities mean
    the same for every group (group-wise calibration, Pleiss et al. 2017, "On Fairness and
    Calibration", NeurIPS). Shaded steps on a right-hand axis show the number (weight) of
    rows in each bin, per group; the legend gives each group's total.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`; the constructor only
    stores the curves. matplotlib is imported when plotting, never at import time.

    Parameters
    ----------
    prob_true : list of ndarray
        Per curve (group), the fraction of positives (or accuracy) of each non-empty bin.
    prob_pred : list of ndarray
        Per curve, the mean predicted probability (or confidence) of each non-empty bin.
    counts : list of ndarray
        Per curve, the number (total weight) of rows of each non-empty bin.
    bin_edges : list of ndarray
        Per curve, the ``n_bins + 1`` bin edges.
    bin_counts : list of ndarray
        Per curve, the number (total weight) of rows of every bin, empty ones included.
    groups : list, default=None
        The group of each curve; ``None`` for a single curve over all rows.
    name : str, default=None
        Name of the model, used in the legend.
    pos_label : int, float, bool or str, default=None
        The positive class (binary), or None (top label).

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One reliability curve per group.
    line_ : matplotlib Line2D or None
        The curve when there is exactly one, else None.
    count_artists_ : list of matplotlib artists
        The bin-count steps, one per group (empty when ``show_counts=False``).
    ax_ : matplotlib Axes
        The axes of the reliability curves.
    ax_counts_ : matplotlib Axes or None
        The twin axes of the bin counts.
    figure_ : matplotlib Figure

    See Also
    --------
    sklearn.calibration.CalibrationDisplay : one curve, binary targets.
    sklearn_fairloss.metrics.expected_calibration_error : the same bins as one number.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_fairloss.plotting import ReliabilityDisplay
    >>> rng = np.random.default_rng(0)
    >>> p = rng.random(1000)
    >>> group = rng.choice(["F", "M"], size=1000)
    >>> y = (rng.random(1000) < np.where(group == "F", p, p ** 2)).astype(int)
    >>> disp = ReliabilityDisplay.from_predictions(y, p, sensitive_features=group, n_bins=5)
    >>> disp.groups
    ['F', 'M']
    >>> len(disp.lines_)
    2
    """

    def __init__(self, prob_true, prob_pred, counts, bin_edges, bin_counts, *, groups=None,
                 name=None, pos_label=None):
        self.prob_true = prob_true
        self.prob_pred = prob_pred
        self.counts = counts
        self.bin_edges = bin_edges
        self.bin_counts = bin_counts
        self.groups = groups
        self.name = name
        self.pos_label = pos_label

    def plot(self, *, ax=None, name=None, ref_line=True, show_counts=True, **kwargs):
        """Plot the reliability curves (and the bin counts).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; a new figure when None.
        name : str, default=None
            Model name for the legend; ``self.name`` when None.
        ref_line : bool, default=True
            Draw the diagonal of perfect calibration.
        show_counts : bool, default=True
            Draw the number of rows per bin as shaded steps on a twin y-axis.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for every curve.

        Returns
        -------
        display : ReliabilityDisplay
        """
        plt = _import_pyplot()
        if ax is None:
            _, ax = plt.subplots()
        self.ax_ = ax
        self.figure_ = ax.figure
        name = self.name if name is None else name

        ref_label = "Perfectly calibrated"
        if ref_line and ref_label not in ax.get_legend_handles_labels()[1]:
            ax.plot([0, 1], [0, 1], "k:", label=ref_label)

        groups = [None] if self.groups is None else self.groups
        self.lines_ = []
        for group, true, pred, counts in zip(groups, self.prob_true, self.prob_pred,
                                             self.counts):
            parts = [str(name)] if name is not None else []
            if group is not None:
                parts.append(str(group))
            label = ": ".join(parts) if parts else "Model"
            label = f"{label} (n={np.sum(counts):g})"
            line_kwargs = {"marker": "s", "linestyle": "-", "label": label, **kwargs}
            self.lines_.append(ax.plot(pred, true, **line_kwargs)[0])
        self.line_ = self.lines_[0] if len(self.lines_) == 1 else None

        self.ax_counts_ = None
        self.count_artists_ = []
        if show_counts:
            self.ax_counts_ = ax.twinx()
            top = 0.0
            for line, edges, bin_counts in zip(self.lines_, self.bin_edges, self.bin_counts):
                self.count_artists_.append(self.ax_counts_.stairs(
                    bin_counts, edges, fill=True, alpha=0.15, color=line.get_color()))
                top = max(top, float(np.max(bin_counts)))
            # Counts fill the lowest third of the plot, under the curves.
            self.ax_counts_.set_ylim(0, 3.0 * top if top > 0 else 1.0)
            self.ax_counts_.set_ylabel("Rows per bin")
            # Curves above the shaded counts.
            ax.set_zorder(self.ax_counts_.get_zorder() + 1)
            ax.patch.set_visible(False)

        if self.pos_label is not None:
            xlabel = f"Mean predicted probability (Positive class: {self.pos_label})"
            ylabel = f"Fraction of positives (Positive class: {self.pos_label})"
        else:
            xlabel, ylabel = "Mean confidence (top label)", "Accuracy"
        ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
        ax.legend(loc="upper left")
        return self

    @classmethod
    def from_predictions(cls, y_true, y_prob, *, sensitive_features=None, sample_weight=None,
                         n_bins=10, strategy="uniform", pos_label=None, labels=None, ax=None,
                         name=None, ref_line=True, show_counts=True, **kwargs):
        """Reliability curves per group from true labels and predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
            Probability of the positive class (binary, 1-D), or of every class (2-D, columns
            in the order of ``labels``). Two columns are treated as binary (column 1 is the
            positive class); more columns give top-label curves.
        sensitive_features : array-like, Series or DataFrame, default=None
            Protected attribute(s): one curve per group (per intersectional cell with several
            attributes); one curve over all rows when None.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights in the bin means and counts.
        n_bins : int, default=10
            Number of bins of the probabilities.
        strategy : {"uniform", "quantile"}, default="uniform"
            Equal-width bins, or equal-mass bins (quantiles computed per group).
        pos_label : int, float, bool or str, default=None
            Positive class for 1-D ``y_prob``: 1 for {0, 1} and {-1, 1} labels.
        labels : array-like of shape (n_classes,), default=None
            Classes in the column order of a 2-D ``y_prob``; the sorted labels of ``y_true``
            by default.
        ax : matplotlib Axes, default=None
        name : str, default=None
            Model name for the legend.
        ref_line : bool, default=True
        show_counts : bool, default=True
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ReliabilityDisplay
        """
        y_true = np.asarray(y_true)
        if y_true.ndim == 2 and y_true.shape[1] == 1:
            y_true = y_true.ravel()
        if y_true.ndim != 1 or y_true.shape[0] == 0:
            raise ValueError(f"y_true must be a non-empty 1-D array; got shape {y_true.shape}.")
        n = y_true.shape[0]
        y_prob = np.asarray(y_prob, dtype=np.float64)
        if y_prob.ndim == 2 and y_prob.shape[1] == 1:
            y_prob = y_prob.ravel()
        if y_prob.ndim not in (1, 2):
            raise ValueError(f"y_prob must be 1-D or 2-D; got an array of shape {y_prob.shape}.")
        if y_prob.shape[0] != n:
            raise ValueError(f"y_prob has {y_prob.shape[0]} rows but y_true has {n} rows; "
                             "they must have the same length.")
        if not np.all(np.isfinite(y_prob)) or y_prob.min() < 0 or y_prob.max() > 1:
            raise ValueError("y_prob must hold probabilities in [0, 1] (no NaN or infinity).")
        weight = check_sample_weight(sample_weight, n, reference="y_true")
        if weight is None:
            weight = np.ones(n)

        if y_prob.ndim == 2:
            classes = np.unique(y_true) if labels is None else np.asarray(labels)
            if len(classes) != y_prob.shape[1]:
                raise ValueError(
                    f"y_prob has {y_prob.shape[1]} columns but there are {len(classes)} "
                    "classes; pass labels= (the classes in column order).")
            if y_prob.shape[1] == 2:
                pos_label = classes[1] if pos_label is None else pos_label
                if pos_label not in classes.tolist():
                    raise ValueError(f"pos_label={pos_label!r} is not one of the classes "
                                     f"{classes.tolist()}.")
                col = classes.tolist().index(pos_label)
                conf, outcome = y_prob[:, col], (y_true == pos_label).astype(np.float64)
            else:
                pred = np.argmax(y_prob, axis=1)
                conf = y_prob[np.arange(n), pred]
                outcome = (classes[pred] == y_true).astype(np.float64)
                pos_label = None
        else:
            present = np.unique(y_true)
            if len(present) > 2:
                raise ValueError(f"y_prob is 1-D but y_true has {len(present)} labels; pass the "
                                 "(n_samples, n_classes) matrix of probabilities.")
            if pos_label is None:
                pos_label = default_pos_label(present)
                if pos_label is None:
                    raise ValueError(
                        f"y_true has labels {present.tolist()}: pass pos_label= (the class "
                        "whose probability y_prob holds).")
            conf, outcome = y_prob, (y_true == pos_label).astype(np.float64)
        if isinstance(pos_label, np.generic):
            pos_label = pos_label.item()

        if sensitive_features is None:
            members, groups = [np.ones(n, dtype=bool)], None
        else:
            encoder = GroupEncoder()
            codes = encoder.fit_transform(sensitive_features, n, reference="y_true").cells
            groups = encoder.cells_
            members = [codes == g for g in range(len(groups))]

        curves = [_bin_curve(conf[m], outcome[m], weight[m], n_bins, strategy) for m in members]
        edges, bin_counts, prob_true, prob_pred, counts = (list(x) for x in zip(*curves))
        display = cls(prob_true, prob_pred, counts, edges, bin_counts, groups=groups, name=name,
                      pos_label=pos_label)
        return display.plot(ax=ax, ref_line=ref_line, show_counts=show_counts, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, sensitive_features=None, sample_weight=None,
                       n_bins=10, strategy="uniform", pos_label=None, ax=None, name=None,
                       ref_line=True, show_counts=True, **kwargs):
        """Reliability curves per group from a fitted classifier and data.

        Uses ``estimator.predict_proba(X)``: the positive class's probability for binary
        targets (``classes_[1]`` unless ``pos_label`` is given), the top-label confidence
        otherwise. When ``predict_proba`` accepts ``sensitive_features`` (e.g. a
        :class:`~sklearn_fairloss.FairLossClassifier` calibrated per group), it receives them.

        Parameters
        ----------
        estimator : fitted classifier with ``predict_proba`` and ``classes_``
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sensitive_features : array-like, DataFrame, str or list of str, default=None
            Protected attribute(s), or column name(s) of a DataFrame ``X``.
        sample_weight, n_bins, strategy, pos_label, ax, name, ref_line, show_counts, **kwargs
            As in :meth:`from_predictions`; ``name`` defaults to the estimator's class name.

        Returns
        -------
        display : ReliabilityDisplay
        """
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(f"estimator must have predict_proba; {type(estimator).__name__} "
                            "has not.")
        params = {}
        if sensitive_features is not None:
            try:
                accepts = "sensitive_features" in inspect.signature(
                    estimator.predict_proba).parameters
            except (TypeError, ValueError):  # pragma: no cover - builtins without signature
                accepts = False
            if accepts:
                params["sensitive_features"] = sensitive_features
        proba = np.asarray(estimator.predict_proba(X, **params))
        if name is None:
            name = type(estimator).__name__
        return cls.from_predictions(
            y, proba, sensitive_features=split_sensitive_columns(X, sensitive_features)[0],
            sample_weight=sample_weight, n_bins=n_bins, strategy=strategy, pos_label=pos_label,
            labels=getattr(estimator, "classes_", None), ax=ax, name=name, ref_line=ref_line,
            show_counts=show_counts, **kwargs)
