"""Hypothesis strategies for timelines: Hypothesis makes every random choice and does all the shrinking.

A timeline is ``signed_in``, then one to :data:`MAX_CHUNKS` chunks (a motif or a free step, from
:data:`harness.fuzz.motifs.TABLE`), then the closing steps (:func:`harness.fuzz.model.closing`). The generator is a
small state machine over :class:`~harness.fuzz.model.Model`: each chunk is planned against the model as it stands,
and each planned step is emitted only if it can play there.

How the choices are laid out decides how Hypothesis shrinks, so:

* each chunk is one nested draw (one span): the shrinker deletes whole chunks;
* each planned step of a motif has its own "keep" draw, an integer in 0..:data:`KEEP_RANGE` where 0 means drop:
  while exploring, a step is dropped about one time in sixteen (so motifs mostly play whole, and their variants
  come up too); the shrinker tries 0 first, so it can remove any single step;
* waits, timeouts and choices are ``sampled_from`` lists ordered smallest first, so they shrink to the shortest
  wait that still violates;
* continuing to another chunk is an integer draw (0, the shrink target, stops).

:func:`batches` draws ``size`` distinct timelines for one engine batch (see :mod:`harness.fuzz.search`).
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.fuzz.candidate import Candidate, StepData
from harness.fuzz.model import Model, allowed, closing
from harness.fuzz.motifs import TABLE, Chunk, Draw

MAX_CHUNKS = 3
# Another chunk follows with probability 1/CONTINUE_ODDS (the shrink's direction, 0, stops): short timelines, so a
# small budget of real runs (3-30 s each) explores many of them.
CONTINUE_ODDS = 3
KEEP_RANGE = 15
TOKEN_TTLS = (60, 20)  # seconds; 20 brings the SDK's own background refresh within reach of a short timeline


@st.composite
def chunk_steps(draw: Draw, model: Model) -> tuple[Chunk, list[StepData]]:
    """One chunk: a motif or a free step, planned against ``model``; the steps kept and playable (``model`` is
    advanced past them)."""
    chunk = draw(st.sampled_from(TABLE))
    planned = chunk.plan(draw, model.copy())
    steps: list[StepData] = []
    for step in planned:
        # The keep draw comes first, whatever the model says: each planned step owns one draw, so dropping one step
        # (which may make a later one unplayable, e.g. `restore` without `minimise`) leaves the others' draws where
        # they were, and the shrinker's edits mean what they say.
        keep = draw(st.integers(0, KEEP_RANGE)) != 0 if chunk.motif else True
        if not keep or not allowed(model, step):
            continue  # dropped (a variant of the motif; how the shrink removes one step), or unplayable here
        model.apply(step)
        steps.append(step)
    return chunk, steps


@st.composite
def timelines(draw: Draw) -> Candidate:
    """A whole timeline, from sign-in to the judged reload."""
    setup: dict[str, object] = {}
    ttl = draw(st.sampled_from(TOKEN_TTLS))
    if ttl != TOKEN_TTLS[0]:
        setup["token_ttl"] = ttl
    if draw(st.booleans()):
        setup["background_api"] = True
    model = Model()
    steps: list[StepData] = ["signed_in"]
    motifs: list[str] = []
    for index in range(MAX_CHUNKS):
        if index and draw(st.integers(0, CONTINUE_ODDS - 1)) != CONTINUE_ODDS - 1:
            break
        chunk, more = draw(chunk_steps(model))
        if more:
            steps += more
            motifs.append(chunk.name)
    return Candidate(steps=steps + closing(model), setup=setup, motifs=motifs)


def batches(size: int) -> st.SearchStrategy[list[Candidate]]:
    """``size`` distinct timelines, played at once on the engine."""
    return st.lists(timelines(), min_size=size, max_size=size, unique_by=lambda c: c.key)
