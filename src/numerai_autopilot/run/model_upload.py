"""``upload-pickle``: check a pickle the way Numerai's runner would, and only then upload it
as the model's Model Upload, with its data version and image chosen explicitly.

The check runs in a prediction worker (unpickling runs the file's code): loaded with
``pd.read_pickle``, arity counted from its signature, called with the whole live frame of the
chosen data version (and the benchmarks for two parameters), its output held to what Numerai's
runner and validation accept. It is meaningful only under the Python of the chosen image
(cloudpickle stores bytecode), so another image's Python is refused.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..client import NumeraiClient
from ..config import ModelSpec, Settings
from ..data import DataCache, load_frame
from ..errors import ConfigError, DataError
from ..models import this_python
from ..tournaments import Tournament
from .worker import LiveData, predict_many

_C = Tournament.CLASSIC  # Numerai runs pickles for Classic only


@dataclass(frozen=True)
class UploadResult:
    """What ``upload-pickle`` did."""

    model: str
    upload_id: str
    data_version: str
    image: str
    rows: int
    """Live rows the pickle predicted in the check."""
    check_seconds: float


def upload_pickle(
    settings: Settings,
    client: NumeraiClient,
    *,
    model: str,
    path: Path,
    data_version: str,
    image: str,
) -> UploadResult:
    """Check ``path`` as Numerai's runner would on the current live data of ``data_version``,
    then upload it for ``model`` with that data version and ``image`` (names as Numerai lists
    them, or their ids). Raises ModelError (nothing uploaded) when Numerai would refuse it,
    ConfigError for a wrong model, file, version or image."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    if path.suffix.lower() != ".pkl":
        raise ConfigError(f"{path}: Numerai takes a Model Upload as a .pkl file")
    data_version = data_version.strip()
    data_version = data_version if data_version.startswith("v") else "v" + data_version
    version_id = _choose(client.pickles.choices("data_versions"), data_version, "--data-version")
    image_id = _choose(client.pickles.choices("images"), image, "--image")
    _same_python(image)
    model_id = _model_id(client, model)
    started = time.monotonic()
    rows = check_pickle(settings, client, model=model, path=path, data_version=data_version)
    seconds = time.monotonic() - started
    upload_id = client.pickles.upload(
        model_id=model_id,
        data=path.read_bytes(),
        filename=path.name,
        data_version_id=version_id,
        image_id=image_id,
    )
    return UploadResult(model, upload_id, data_version, image, rows, round(seconds, 3))


def check_pickle(
    settings: Settings, client: NumeraiClient, *, model: str, path: Path, data_version: str
) -> int:
    """Run the pickle as Numerai's runner would, in a worker; the rows it predicted. Raises
    ModelError saying why Numerai would refuse it."""
    rnd = client.current_round(_C)
    if rnd is None:
        raise DataError("Numerai lists no Classic round: no live data to check the pickle on")
    version = data_version if data_version.startswith("v") else "v" + data_version  # 5.2 too
    listed = client.list_datasets(_C, rnd.number)
    cache = DataCache(settings.state_path / "cache", client)
    live_name = f"{version}/live.parquet"
    if live_name not in listed:
        raise ConfigError(f"--data-version {data_version}: Numerai lists no {live_name}")
    frame = load_frame(cache.fetch(_C, rnd.number, live_name), index="id")
    bench_name = f"{version}/live_benchmark_models.parquet"
    bench = None
    if bench_name in listed:
        bench = load_frame(cache.fetch(_C, rnd.number, bench_name), index="id")
    spec = ModelSpec(
        name=model,
        tournament=_C,
        format="function",
        artifact=path.resolve(),
        strict_model_upload=True,
    )
    [result] = predict_many(
        [spec],
        {_C: LiveData(frame=frame, benchmarks=bench)},
        workers=1,
        timeout=settings.model_timeout,
        memory_mb=settings.model_memory_mb,
    )
    if result.error is not None:
        raise type(result.error)(f"not uploaded: {result.error}") from result.error
    return len(frame)


def _choose(options: dict[str, str], wanted: str, flag: str) -> str:
    """The id of ``wanted`` (a name, or an id) among Numerai's ``options``."""
    if wanted in options:
        return options[wanted]
    if wanted in options.values():
        return wanted
    raise ConfigError(
        f"{flag} {wanted!r} is not one Numerai offers: choose one of "
        f"{', '.join(repr(n) for n in options) or '(none listed)'}"
    )


def _same_python(image: str) -> None:
    """The check means what it says only under the image's Python minor."""
    m = re.search(r"3\.\d+", image)
    if m is not None and m.group(0) != this_python():
        raise ConfigError(
            f"--image {image!r} runs Python {m.group(0)}, this is {this_python()}: a pickle "
            "holds its Python's bytecode, so check and upload it with that Python"
        )


def _model_id(client: NumeraiClient, name: str) -> str:
    for m in client.account_models():
        if m.name.lower() == name.lower() and m.tournament is _C:
            return m.id
    raise ConfigError(f"the account has no Classic model named {name!r}")
