"""``harness fuzz``: search for timelines nobody wrote, under the invariant "the session survives unless the server
ended it", shrink each violation to a minimal scenario file, and say what was explored.

The parts, each one job:

* :mod:`.candidate` -- a generated timeline as scenario DATA (the dicts a YAML file holds), its canonical key, its
  size order (what "smaller" means to the shrink) and its validation by the scenario model;
* :mod:`.model` -- the generation-time model of a timeline (online, tab state, armed faults) and the step builders
  with their preconditions, so every generated timeline is one the steps can play;
* :mod:`.motifs` -- the guided part: short step patterns for the interleavings that matter;
* :mod:`.strategies` -- Hypothesis strategies over motifs and free steps (Hypothesis owns every random choice and
  the shrinking);
* :mod:`.search` -- the search: Hypothesis examples are batches of timelines played at once on the engine;
* :mod:`.player` -- the seam to the engine (a :class:`~.player.Player` plays timelines and says what each did);
* :mod:`.confirm`, :mod:`.finding` -- replay a shrunk violation, measure its rate, write it as a scenario file;
* :mod:`.coverage`, :mod:`.output`, :mod:`.report` -- what was explored: the summary, ``fuzz.json``, the HTML
  section;
* :mod:`.command` -- the ``harness fuzz`` front door.

Invariant: a run that ends in ``error`` is never a finding; only ``reproduced`` (the session was lost while the
server still held it, as the oracles judge) is a violation.
"""
