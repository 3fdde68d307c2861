"""One run: validate input once, drive the compiled engine, save and resume bit for bit.

:class:`Run` is the resumable object (``advance``, ``trajectory``, ``state``, ``save``, ``load``);
:func:`train` is the one-call entry point built on it. Data shared by many runs are validated and
converted once, as a :class:`PreparedData` (:mod:`.prepared`); checkpoint grids are planned in
:mod:`.grid`, the run file's fields are checked in :mod:`.runfile`.
"""

from .grid import log_grid
from .prepared import PreparedData, advance_ensemble
from .runner import STATE_FORMAT, STATE_POWERS, Run
from .training import train

__all__ = ["PreparedData", "Run", "train", "log_grid", "advance_ensemble", "STATE_FORMAT", "STATE_POWERS"]
