"""Why a pickle does not load here, told truly: which module or Python it was made with.

A pickle records modules by name; when a library moved or removed one, the pickle names a
module the installed version lacks. Saying "install numpy" is then wrong (numpy is installed,
at another version): the message names the module, the installed version and, where known,
the versions that have it. Also Numerai's Model Upload image pins, to compare against.
"""

from __future__ import annotations

import importlib
import sys

from ..errors import ModelError

# What numerai/numerai-predict's py3.11 image pins (py3.11/requirements.txt at 19d1769): the
# environment Numerai runs a Python 3.11 Model Upload in.
NUMERAI_IMAGE_PINS: dict[str, dict[str, str]] = {
    "3.11": {
        "numpy": "2.1.3",
        "pandas": "2.3.1",
        "cloudpickle": "3.1.1",
        "scikit-learn": "1.6.1",
        "lightgbm": "4.6.0",
        "numerai-tools": "0.4.0",
        "scipy": "1.16.0",
        "xgboost": "3.0.2",
        "catboost": "1.2.8",
        "pyarrow": "21.0.0",
    },
}
NUMERAI_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
"""The Pythons Numerai has a Model Upload image for."""

# Modules that moved, and the versions that have the name a pickle recorded.
_MOVED: dict[str, str] = {
    "numpy.linalg.linalg": "numpy < 2.4",  # numpy 2.0 made it numpy.linalg._linalg (shim to 2.3)
    "numpy._core": "numpy >= 2.0",  # numpy.core before 2.0
    "pandas.core.indexes.numeric": "pandas < 2.0",  # Int64Index and friends
}
_DISTRIBUTIONS = {"sklearn": "scikit-learn", "numerai_tools": "numerai-tools"}


def this_python() -> str:
    """``3.11``: the running interpreter's minor version, as Numerai names its images."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def installed_version(top: str) -> str | None:
    """The installed distribution version of import name ``top`` (None: not installed)."""
    import importlib.metadata  # here: 20 ms of every command's start otherwise

    try:
        return importlib.metadata.version(_DISTRIBUTIONS.get(top, top))
    except importlib.metadata.PackageNotFoundError:
        return None


def moved_module(module: str, model: str) -> ModelError | None:
    """The error for a pickle that names ``module``, absent from an installed library (a
    version mismatch), or None when the library itself is missing (the caller names the
    extra to install)."""
    top = module.split(".", maxsplit=1)[0]
    have = installed_version(top)
    if have is None or module == top or not _importable(top):
        return None
    dist = _DISTRIBUTIONS.get(top, top)
    known = _known(module)
    made = f"pickled with {known}" if known else f"pickled with another {dist} version"
    pinned = NUMERAI_IMAGE_PINS.get(this_python(), {}).get(dist)
    image = f"; Numerai's Python {this_python()} image has {dist} {pinned}" if pinned else ""
    return ModelError(
        f"model {model!r}: the pickle needs module {module}, which {dist} {have} installed "
        f"here does not have: {made}{image}"
    )


def _importable(top: str) -> bool:
    try:
        importlib.import_module(top)
    except ImportError:
        return False
    return True


def _known(module: str) -> str | None:
    for name, versions in _MOVED.items():
        if module == name or module.startswith(name + "."):
            return versions
    return None


def missing_attribute(exc: AttributeError, model: str) -> ModelError | None:
    """pickle's "Can't get attribute 'f' on <module 'm' ...>": the module exists but lacks the
    name (a library version that renamed it). None for other AttributeErrors."""
    text = str(exc)
    if not text.startswith("Can't get attribute"):
        return None
    module = getattr(exc, "obj", None)
    mod_name = getattr(module, "__name__", None)
    if not isinstance(mod_name, str):
        return None
    top = mod_name.split(".", maxsplit=1)[0]
    have = installed_version(top)
    if have is None:
        return None
    dist = _DISTRIBUTIONS.get(top, top)
    return ModelError(
        f"model {model!r}: the pickle needs {getattr(exc, 'name', '?')} from {mod_name}, which "
        f"{dist} {have} installed here does not have: pickled with another {dist} version"
    )


def other_python(exc: TypeError, model: str) -> ModelError | None:
    """A code object that does not fit this interpreter (cloudpickle stores a function's
    code with the constructor arguments of the Python that made it). None for other
    TypeErrors."""
    # pd.read_pickle retries with pandas' compat unpickler, whose error hides the first one.
    seen: BaseException | None = exc
    while seen is not None and not str(seen).startswith(("code() argument", "code expected")):
        seen = seen.__context__
    if seen is None:
        return None
    text = str(seen)
    # 3.11 added qualname before firstlineno: a 3.8-3.10 code object puts an int there.
    made = "Python 3.8-3.10" if "argument 13 must be str, not int" in text else "another Python"
    return ModelError(
        f"model {model!r}: the pickle's function was pickled by {made}; this is "
        f"{this_python()} ({text}). Numerai runs a pickle in the image of the Python that "
        f"made it ({', '.join(NUMERAI_PYTHONS)}): run the autopilot on that Python"
    )
