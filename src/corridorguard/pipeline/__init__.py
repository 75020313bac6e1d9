"""The main job: ``corridorguard plan`` as a function (:func:`run_plan`).

Forecast (validated by backtest, or an explicitly unvalidated prior) -> site game and joint patrol
plan for both forces -> checkpoints, sensors and QRF placement -> convoy routes -> Monte Carlo
evaluation against the static baseline and the uncoordinated plan -> ``plan.json``,
``report.html`` and map layers. See ``docs/user-guide.md``.
"""

from corridorguard.pipeline.forecast import Forecast
from corridorguard.pipeline.plans import Assumptions
from corridorguard.pipeline.run import PlanResult, SimSizes, run_plan

__all__ = ["Assumptions", "Forecast", "PlanResult", "SimSizes", "run_plan"]
