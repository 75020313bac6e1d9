"""Risk forecasting: where and when incidents are likely, and how far to trust it.

Pure core: takes :class:`Events` (plain arrays), never reads the store. Models share one interface
(construct with a :class:`Grid` and keyword-only hyper-parameters, ``fit(events)`` returns self,
``predict(start, horizon)`` gives expected events per active cell). :func:`backtest` scores them by
rolling origin; :func:`select_model` picks one on the user's own data; :func:`asset_risk` turns a
forecast into per-site and per-road-segment expected incidents.
"""

from corridorguard.risk.assets import (
    AssetRisk,
    EdgeRisk,
    SiteRisk,
    asset_risk,
    relative_rates,
    road_segment_risk,
    scenario_covariates,
)
from corridorguard.risk.backtest import (
    DEFAULT_MODELS,
    MODELS,
    BacktestResult,
    ModelScore,
    ModelSelection,
    backtest,
    rolling_origins,
    select_model,
)
from corridorguard.risk.events import (
    Events,
    PrecisionPolicy,
    apply_precision,
    events_from_records,
    to_seconds,
)
from corridorguard.risk.grid import Grid, laea_crs
from corridorguard.risk.hawkes import HawkesExpFit, fit_hawkes_exp, simulate_hawkes_exp
from corridorguard.risk.metrics import (
    COVERAGES,
    block_bootstrap,
    brier_score,
    hit_counts,
    hit_rates,
    loglik_sum,
    pai,
)
from corridorguard.risk.models import (
    BASELINES,
    CountModel,
    ProspectiveHotspot,
    RetroKDE,
    RiskModel,
    SpaceTimeKDE,
    UniformModel,
)
from corridorguard.risk.sepp import ETASModel, simulate_etas

__all__ = [
    "BASELINES",
    "COVERAGES",
    "DEFAULT_MODELS",
    "MODELS",
    "AssetRisk",
    "BacktestResult",
    "CountModel",
    "ETASModel",
    "EdgeRisk",
    "Events",
    "Grid",
    "HawkesExpFit",
    "ModelScore",
    "ModelSelection",
    "PrecisionPolicy",
    "ProspectiveHotspot",
    "RetroKDE",
    "RiskModel",
    "SiteRisk",
    "SpaceTimeKDE",
    "UniformModel",
    "apply_precision",
    "asset_risk",
    "backtest",
    "block_bootstrap",
    "brier_score",
    "events_from_records",
    "fit_hawkes_exp",
    "hit_counts",
    "hit_rates",
    "laea_crs",
    "loglik_sum",
    "pai",
    "relative_rates",
    "road_segment_risk",
    "rolling_origins",
    "scenario_covariates",
    "select_model",
    "simulate_etas",
    "simulate_hawkes_exp",
    "to_seconds",
]
