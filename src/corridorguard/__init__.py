"""corridorguard: accountable, game-theoretic protection planning for infrastructure corridors.

The computational core (``scenario``, ``incidents``, ``risk``, ``games``, ``patrol``,
``placement``, ``routing``, ``simulate``) takes plain data and returns typed results; the store,
API and CLI are thin adapters around it.
"""

from corridorguard.errors import CorridorError, SolverError, ValidationError

__version__ = "0.1.0"

__all__ = ["CorridorError", "SolverError", "ValidationError", "__version__"]
