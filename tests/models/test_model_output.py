"""Whatever a model returns becomes float64 values indexed exactly like the live frame,
or a ModelError that says what was wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.errors import ModelError
from numerai_autopilot.models._output import to_series

INDEX = pd.Index(["a", "b", "c", "d"], name="id")
VALUES = np.array([0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize(
    "raw",
    [
        pd.Series(VALUES, index=INDEX),
        pd.Series(VALUES[::-1], index=INDEX[::-1]),  # another order: aligned by id
        pd.Series(VALUES),  # positional, e.g. pd.Series(model.predict(x))
        pd.DataFrame({"prediction": VALUES}, index=INDEX),
        pd.DataFrame({"id": INDEX[::-1], "prediction": VALUES[::-1]}),  # ids as a column
        pd.DataFrame({"era": ["X"] * 4, "signal": VALUES}, index=INDEX),  # a named column
        VALUES,
        VALUES.reshape(-1, 1),
        np.column_stack([1 - VALUES, VALUES]),  # predict_proba: the positive class
        list(VALUES),
    ],
)
def test_accepted_shapes_align_to_the_live_index(raw: object) -> None:
    out = to_series(raw, INDEX, "m")
    assert out.index.equals(INDEX)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.to_numpy(), VALUES)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (VALUES[:3], "returned 3 predictions for 4 live rows"),
        (pd.Series(VALUES, index=["a", "b", "c", "z"]), "1 live ids missing, 1 unknown ids"),
        (pd.Series(VALUES, index=["a", "a", "b", "c"]), "duplicate ids"),
        (np.array([0.1, np.nan, np.inf, 0.2]), "returned 2 NaN or infinite predictions of 4"),
        (pd.DataFrame({"x": VALUES, "y": VALUES}, index=INDEX), "DataFrame with 2 columns"),
        (np.ones((4, 3)), "shape (4, 3)"),
        (["a", "b", "c", "d"], "not numbers"),
    ],
)
def test_refused_outputs_say_what_is_wrong(raw: object, message: str) -> None:
    with pytest.raises(ModelError, match="model 'm'") as info:
        to_series(raw, INDEX, "m")
    assert message in str(info.value)
