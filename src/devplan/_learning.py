"""Learning from outcomes: item effects updated from observed gains.

Data flow: an :class:`~devplan.Evaluation` (observed item × competency
effects with standard errors) + the catalog (stated effects) → learned
``item_id, competency_id, effect`` that :func:`devplan.generate_plans`,
:func:`devplan.build_plans` and ``devplan plan --item-effects`` accept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["learn_item_effects", "read_item_effects", "write_item_effects"]

#: Columns of a learned item-effects table.
LEARNED_COLUMNS = (
    "item_id",
    "competency_id",
    "effect",
    "stated_effect",
    "prior_effect",
    "observed_effect",
    "se",
    "n_completers",
    "shrinkage",
)


def stated_effects(catalog: pd.DataFrame, item_effects=None) -> pd.DataFrame:
    """The effects the recommender assumes for every catalog link.

    ``item_id, competency_id, effect``: the kind × level defaults of
    :class:`PathRecommender` times the link weight, replaced by
    ``item_effects`` where given.
    """
    from devplan._recommend import PathRecommender
    from devplan._validate import catalog_links

    cat = catalog.reset_index(drop=True)
    links = catalog_links(cat)[["item_id", "competency_id"]].astype(str)
    links = links.drop_duplicates().reset_index(drop=True)
    rec = PathRecommender().fit(
        cat, competencies=pd.unique(links["competency_id"]), item_effects=item_effects
    )
    j = pd.Index(rec.items_["item_id"]).get_indexer(links["item_id"])
    c = rec.competencies_.get_indexer(links["competency_id"])
    return links.assign(effect=rec.effects_[j, c])


def learn_item_effects(
    evaluation,
    catalog: pd.DataFrame,
    *,
    prior: pd.DataFrame | None = None,
    estimate: str = "adjusted",
    calibrate: bool = True,
    min_completers: int = 2,
) -> pd.DataFrame:
    """Item effects learned from observed gains, shrunk toward stated effects.

    Parameters
    ----------
    evaluation : Evaluation or DataFrame
        An :func:`devplan.evaluate` result or its ``items`` table
        (``item_id, competency_id, n_completers`` and the estimate columns).
    catalog : DataFrame
        The catalog; every link (item × competency it serves) gets a learned
        effect.
    prior : DataFrame or None, default=None
        ``item_id, competency_id, effect`` to shrink toward instead of the
        catalog's defaults for those pairs, e.g. last cycle's learned
        effects, so that evidence accumulates over cycles.
    estimate : {"adjusted", "matched"}, default="adjusted"
        Observed effect used: ``adjusted_effect`` (matched gains adjusted
        for other items completed on the same competency) or the plain
        matched ``effect``.
    calibrate : bool, default=True
        Scale the stated effects by one factor ``kappa`` estimated from the
        evidence (the catalog's effects may be right in ranking but wrong
        in size); items without evidence then get ``kappa * stated``.
    min_completers : int, default=2
        Observed effects from fewer completers are ignored.

    Returns
    -------
    DataFrame
        One row per catalog link: ``item_id, competency_id, effect``
        (learned, ≥ 0), ``stated_effect``, ``prior_effect`` (``kappa *
        stated``), ``observed_effect``, ``se``, ``n_completers`` and
        ``shrinkage`` (weight of the observation, 0 without evidence).
        ``attrs["kappa"]`` and ``attrs["tau"]`` hold the fitted prior.

    Notes
    -----
    Empirical Bayes (normal-normal) model: the true effect of link *k* is
    ``theta_k ~ N(kappa * s_k, tau^2)`` around the stated effect ``s_k``,
    and the observation ``y_k ~ N(theta_k, se_k^2)``. ``tau^2`` and
    ``kappa`` are estimated by the Paule-Mandel method: ``tau^2`` solves
    (bisection; 0 when no positive root)::

        sum((y - kappa * s)^2 / v) = K - [calibrate],   v = se^2 + tau^2
        kappa = sum(y * s / v) / sum(s^2 / v)   (1 when calibrate=False)

    over the ``K`` links with evidence, so that precise observations count
    more than noisy ones in the estimate of the spread.

    and the learned effect is the posterior mean ``kappa * s + B (y -
    kappa * s)`` with ``B = tau^2 / (tau^2 + se^2)``: close to the
    observation when it is precise, close to the (calibrated) stated effect
    when evidence is thin. Negative posteriors are set to 0 (no item is
    assumed to harm; the recommender then does not use it for that
    competency).

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan.datasets import load_sample
    >>> catalog = load_sample().catalog
    >>> items = pd.DataFrame({
    ...     "item_id": ["L0001", "L0002"], "competency_id": ["self_awareness"] * 2,
    ...     "n_completers": [400, 3], "adjusted_effect": [0.5, 0.5],
    ...     "adjusted_se": [0.02, 0.3]})
    >>> learned = learn_item_effects(items, catalog, calibrate=False)
    >>> out = learned[learned["competency_id"] == "self_awareness"]
    >>> cols = ["stated_effect", "effect", "shrinkage"]
    >>> out.set_index("item_id").loc[["L0001", "L0002"], cols].round(3).values
    array([[0.12 , 0.499, 0.996],
           [0.12 , 0.331, 0.554]])

    Four hundred completers outweigh the stated effect; three move it only
    part of the way.
    """
    if estimate not in ("adjusted", "matched"):
        raise ValueError(
            f"Got estimate={estimate!r}; expected 'adjusted' or 'matched'."
        )
    from devplan._evaluate import Evaluation

    items = evaluation.items if isinstance(evaluation, Evaluation) else evaluation
    col, se_col = (
        ("adjusted_effect", "adjusted_se")
        if estimate == "adjusted"
        else ("effect", "se")
    )
    need = ["item_id", "competency_id", "n_completers", col, se_col]
    if not isinstance(items, pd.DataFrame):
        raise TypeError(
            f"Got evaluation of type {type(evaluation).__name__}; expected an "
            "Evaluation or its items table."
        )
    missing = [c for c in need if c not in items.columns]
    if missing:
        raise ValueError(
            f"Got an items table without column(s) {missing}; expected "
            f"{', '.join(need)} (the items table of devplan.evaluate)."
        )
    if not isinstance(min_completers, int | np.integer) or min_completers < 1:
        raise ValueError(
            f"Got min_completers={min_completers!r}; expected an integer >= 1."
        )
    table = stated_effects(catalog, prior).rename(columns={"effect": "stated_effect"})
    obs = items[need].astype({"item_id": str, "competency_id": str})
    obs = obs.rename(columns={col: "observed_effect", se_col: "se"})
    table = table.merge(obs, on=["item_id", "competency_id"], how="left")
    table["n_completers"] = table["n_completers"].fillna(0).astype(int)
    y = table["observed_effect"].to_numpy(dtype=float)
    se = table["se"].to_numpy(dtype=float)
    s = table["stated_effect"].to_numpy(dtype=float)
    use = (
        np.isfinite(y)
        & np.isfinite(se)
        & (se > 0)
        & (table["n_completers"].to_numpy() >= min_completers)
    )
    kappa, tau2 = _fit_prior(y[use], se[use], s[use], calibrate)
    prior_mean = kappa * s
    weight = np.zeros(len(table))
    weight[use] = tau2 / (tau2 + se[use] ** 2) if tau2 > 0 else 0.0
    post = prior_mean + weight * np.where(use, y - prior_mean, 0.0)
    table["effect"] = np.maximum(post, 0.0)
    table["prior_effect"] = prior_mean
    table["shrinkage"] = weight
    out = table[list(LEARNED_COLUMNS)]
    out.attrs.update({"kappa": float(kappa), "tau": float(np.sqrt(tau2))})
    return out


def _fit_prior(y, se, s, calibrate, n_iter: int = 200):
    """Paule-Mandel ``tau^2`` and the weighted ``kappa`` (bisection)."""
    k = len(y)
    if k == 0:
        return 1.0, 0.0

    def kappa_at(tau2):
        v = se**2 + tau2
        denom = float(np.sum(s**2 / v))
        return float(np.sum(y * s / v) / denom) if calibrate and denom > 0 else 1.0

    def excess(tau2):
        kappa = kappa_at(tau2)
        return float(np.sum((y - kappa * s) ** 2 / (se**2 + tau2))) - (
            k - int(calibrate)
        )

    if k - int(calibrate) < 1 or excess(0.0) <= 0:
        return kappa_at(0.0), 0.0
    low, high = 0.0, float(np.max((y - kappa_at(0.0) * s) ** 2) + np.var(y) + 1e-12)
    while excess(high) > 0:
        high *= 2
    for _ in range(n_iter):
        mid = (low + high) / 2
        low, high = (mid, high) if excess(mid) > 0 else (low, mid)
    tau2 = (low + high) / 2
    return kappa_at(tau2), tau2


def write_item_effects(effects: pd.DataFrame, path) -> Path:
    """Save learned item effects (CSV or Parquet, by suffix), atomically.

    Parameters
    ----------
    effects : DataFrame
        ``item_id, competency_id, effect`` (other columns are kept).
    path : str or Path
        Target ``.csv`` or ``.parquet`` file.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> eff = pd.DataFrame({"item_id": ["007"], "competency_id": ["feedback"],
    ...                     "effect": [0.25]})
    >>> path = Path(tempfile.mkdtemp()) / "item_effects.csv"
    >>> read_item_effects(write_item_effects(eff, path)).equals(eff)
    True
    """
    from devplan._bundle import write_table

    _check_effects(effects, "effects")
    return write_table(effects, path)


def read_item_effects(path) -> pd.DataFrame:
    """Read item effects saved by :func:`write_item_effects`.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet`` file with ``item_id, competency_id,
        effect``.

    Returns
    -------
    DataFrame
        Identifiers as strings (``007`` stays ``007``), ``effect`` as float.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("item_id,competency_id,effect\\n007,feedback,0.3\\n")
    >>> read_item_effects(path)["item_id"].tolist()
    ['007']
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Got item effects file {str(path)!r}, which does not exist.")
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        for c in ("item_id", "competency_id"):
            if c in df.columns:
                df[c] = df[c].astype(str)
    elif path.suffix == ".csv":
        df = pd.read_csv(
            path,
            dtype={"item_id": str, "competency_id": str, "effect": str},
            keep_default_na=False,
        )
    else:
        raise ValueError(
            f"Got item effects file {str(path)!r}; expected a .csv or .parquet file."
        )
    _check_effects(df, str(path))
    return df.assign(effect=pd.to_numeric(df["effect"]).astype(float))


def _check_effects(df, name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"Got {name} of type {type(df).__name__}; expected a DataFrame."
        )
    missing = [c for c in ("item_id", "competency_id", "effect") if c not in df]
    if missing:
        raise ValueError(
            f"Got item effects {name} without column(s) {missing}; expected "
            "item_id, competency_id, effect."
        )
    effect = pd.to_numeric(df["effect"], errors="coerce")
    bad = ~np.isfinite(effect.to_numpy(dtype=float))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Got item effects {name} row {row + 1}, column effect, value "
            f"{df['effect'].iloc[row]!r}; expected a finite number."
        )
