"""Order execution: multi-leg sequencing, limit ladder, fill verification, unwind (see executor)."""

from shared.execution.executor import EntryGate, Executor
from shared.execution.model import ExecutionSettings
from shared.execution.recorder import Recorder

__all__ = ["EntryGate", "ExecutionSettings", "Executor", "Recorder"]
