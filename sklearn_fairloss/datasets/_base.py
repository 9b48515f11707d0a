"""Shared helpers of the dataset loaders: reading package data and shaping the return value."""

import gzip
import io
from collections import namedtuple
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["DatasetInfo", "as_category", "check_frame", "finish", "loader_doc",
           "open_data_text", "read_data_bytes"]

_DATA_PACKAGE = "sklearn_fairloss.datasets"

DatasetInfo = namedtuple("DatasetInfo", ["sensitive", "target_names", "descr"])
DatasetInfo.__doc__ = """What a loader returns besides the frames: the sensitive column names,
the meaning of targets 0 and 1, and the ``DESCR`` text."""

# Docstring sections every loader shares, filled in by :func:`loader_doc`.
_PARAMS_DOC = """Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    return_sensitive : str, list of str or True, default=None
        Return the triple ``(data, target, sensitive)`` instead: a str (one of {names})
        gives that column as a Series, a list of names gives a DataFrame of those columns,
        True gives the whole sensitive DataFrame. When it is given the triple is returned
        whatever ``return_X_y`` says."""
_BUNCH_DOC = """data : Bunch
        Dictionary-like object with the attributes:
"""
_RETURNS_DOC = """feature_names : list of str
            The columns of ``data``.
        target_names : ndarray of str
            ``{target_names}``: the meaning of target 0 and 1.
        sensitive_names : list of str
            The columns of ``sensitive``.
        DESCR : str
            Description, provenance and licence.

    (data, target) : tuple if ``return_X_y`` is True
    (data, target, sensitive) : tuple if ``return_sensitive`` is given
        ``sensitive`` is a Series for one name, a DataFrame otherwise.

    Raises
    ------
    ValueError
        If ``return_sensitive`` names a column that is not a sensitive attribute.
    TypeError
        If ``return_sensitive`` is not None, True, a str or a list of str."""


def read_data_bytes(name):
    """The decompressed bytes of ``data/<name>`` shipped inside the package."""
    resource = resources.files(_DATA_PACKAGE).joinpath("data", name)
    with resource.open("rb") as f:
        return gzip.decompress(f.read())


def open_data_text(name):
    """A text buffer over the decompressed ``data/<name>``."""
    return io.StringIO(read_data_bytes(name).decode("utf-8"))


def _check_return_sensitive(return_sensitive, available):
    """Validate ``return_sensitive``; return the selected names and whether one was named."""
    if return_sensitive is True:
        return list(available), False
    if isinstance(return_sensitive, str):
        names, single = [return_sensitive], True
    elif isinstance(return_sensitive, (list, tuple)) and not isinstance(return_sensitive, bool):
        names, single = list(return_sensitive), False
        if not names:
            raise ValueError(
                "return_sensitive is an empty list; name at least one of the sensitive "
                f"attributes {list(available)}, or pass True for all of them."
            )
        bad_types = [name for name in names if not isinstance(name, str)]
        if bad_types:
            raise TypeError(
                "return_sensitive must hold column names (str); got the non-string entries "
                f"{bad_types!r}."
            )
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"return_sensitive names {duplicated} more than once.")
    else:
        raise TypeError(
            "return_sensitive must be None, True, a column name (str) or a list of column names "
            f"of the sensitive frame; got {return_sensitive!r} of type "
            f"{type(return_sensitive).__name__}."
        )
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(
            f"return_sensitive names {unknown}, which are not sensitive attributes of this "
            f"dataset; choose from {list(available)}."
        )
    return names, single


def loader_doc(info):
    """Decorator: fill the ``{loader_params}`` section, the ``{bunch}`` head of the Returns
    section and its ``{loader_returns}`` tail in a loader's docstring from its
    :class:`DatasetInfo`."""
    names = ", ".join(f'"{name}"' for name in info.sensitive)

    def fill(loader):
        loader.__doc__ = loader.__doc__.replace(
            "{loader_params}", _PARAMS_DOC.format(names=names)).replace(
            "{bunch}", _BUNCH_DOC).replace(
            "{loader_returns}", _RETURNS_DOC.format(target_names=list(info.target_names)))
        return loader

    return fill


def finish(data, target, info, *, return_X_y, return_sensitive, **extra):
    """Build the loader's return value from copies of the cached frames.

    ``sensitive`` is built from columns of ``data`` so that it is always aligned with it.
    ``extra`` frames (copied too) become further attributes of the Bunch.
    """
    data, target = data.copy(), target.copy()
    sensitive = data[list(info.sensitive)].copy()
    if return_sensitive is not None and return_sensitive is not False:
        names, single = _check_return_sensitive(return_sensitive, info.sensitive)
        A = sensitive[names[0]] if single else sensitive[names]
        return data, target, A
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        sensitive=sensitive,
        feature_names=list(data.columns),
        target_names=np.asarray(info.target_names, dtype=object),
        sensitive_names=list(info.sensitive),
        DESCR=info.descr,
        **{name: frame.copy() for name, frame in extra.items()},
    )


def as_category(frame, columns):
    """Cast ``columns`` of ``frame`` to pandas ``category`` (sorted categories), in place."""
    for column in columns:
        frame[column] = frame[column].astype("category")
    return frame


def check_frame(frame, n_rows, name):
    """Guard against a damaged package data file: the parsed row count must match."""
    if frame.shape[0] != n_rows:  # pragma: no cover - only with corrupted package data
        raise RuntimeError(
            f"The bundled {name} data parsed to {frame.shape[0]} rows instead of {n_rows}; "
            "the package data files are damaged. Reinstall sklearn-fairloss."
        )
    return frame

