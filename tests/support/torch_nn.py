"""PyTorch artifacts trained in the test (a small seeded MLP, a few epochs: well under a
second), saved as TorchScript ``.pt`` or ``torch.export`` ``.pt2``, and the model's own
forward as the reference the loaders and the runs are compared with."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.tournaments import Tournament

from .workshop import Workshop


def torch_module() -> Any:
    """torch, or a failure that says how to install it (never a skip: make test installs it)."""
    try:
        import torch
    except ImportError as exc:
        pytest.fail(f"{exc}: `make torch` installs it (make test does)", pytrace=False)
    return torch


def train_mlp(
    x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], *, outputs: int = 1, epochs: int = 5
) -> Any:
    """An MLP (width -> 16 -> outputs, sigmoid) fit with Adam, in eval mode."""
    torch = torch_module()
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, outputs),
        torch.nn.Sigmoid(),
    )
    xt = torch.from_numpy(np.asarray(x, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y, dtype=np.float32)).reshape(-1, 1).expand(-1, outputs)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        for rows in torch.split(torch.arange(len(xt)), 64):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xt[rows]), yt[rows])
            loss.backward()
            opt.step()
    return model.eval()


def save_torch(
    model: Any,
    path: Path,
    width: int,
    *,
    features: list[str] | None = None,
    batch: int | None = None,
    dtype: str = "float32",
) -> None:
    """TorchScript for ``.pt``/``.pth``, else ``torch.export`` (a dynamic batch dimension
    unless ``batch`` fixes it); ``features`` goes in as the ``features.json`` extra file."""
    torch = torch_module()
    extra = {"features.json": json.dumps(features)} if features else {}
    if path.suffix != ".pt2":
        with warnings.catch_warnings():  # torch 2.15 deprecates TorchScript (still supported)
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.save(torch.jit.script(model), str(path), _extra_files=extra)
        return
    example = (torch.zeros((batch or 8, width), dtype=getattr(torch, dtype)),)
    dynamic = None if batch else ({0: torch.export.Dim("rows")},)
    program = torch.export.export(model, example, dynamic_shapes=dynamic)
    torch.export.save(program, str(path), extra_files=extra)


def forward(model: Any, x: pd.DataFrame) -> np.ndarray[Any, Any]:
    """The model's own forward on float32 rows (the reference)."""
    torch = torch_module()
    with torch.inference_mode():
        out = model(torch.from_numpy(x.to_numpy(dtype=np.float32)))
    result: np.ndarray[Any, Any] = out.reshape(-1).to(torch.float64).numpy()
    return result


def add_torch(w: Workshop, name: str, suffix: str, *, stored: bool = False) -> None:
    """An MLP trained on the sandbox's training data, as ``.pt`` or ``.pt2``, its features set
    by ``features = "small"`` or (``stored``) saved in it; the reference is the saved file
    loaded back by torch itself."""
    path = w.dir / f"{name}{suffix}"
    feats = list(w.small)

    def train(p: Path) -> None:
        model = train_mlp(w.X.to_numpy(), w.y.to_numpy())
        save_torch(model, p, len(feats), features=feats if stored else None)

    w.artifacts.artifact(w.digest, ("torch", suffix, stored), path, train)

    def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
        torch = torch_module()
        if suffix == ".pt2":
            model = torch.export.load(str(path)).module()
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                model = torch.jit.load(str(path))
        return pd.Series(forward(model, live[feats]), index=live.index)

    setting = "" if stored else 'features = "small"\n'
    w.add(name, Tournament.CLASSIC, f'artifact = "{path.name}"\n{setting}', ref)
