"""The run engine: one object owns a run (:class:`Run`), one plays many (:class:`Engine`), one set of options
(:class:`RunOptions`) feeds both. Front doors -- the CLI, the pytest plugin and fixtures, ``serve`` -- only translate
their options (:mod:`harness.engine.options`) and call these."""

from harness.engine.options import RunOptions, auto_jobs, options_from_args, options_from_pytest
from harness.engine.plan import RunPlan, expand, in_shard
from harness.engine.result import RunResult, reproduce_command
from harness.engine.run import Run, RunResources, StepFailed
from harness.engine.scheduler import Engine, Interrupted

__all__ = ["Engine", "Interrupted", "Run", "RunOptions", "RunPlan", "RunResources", "RunResult", "StepFailed",
           "auto_jobs", "expand", "in_shard", "options_from_args", "options_from_pytest", "reproduce_command"]
