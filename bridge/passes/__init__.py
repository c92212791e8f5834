"""Graph clean-up passes, one per module; each returns whether it changed the model."""
from .outputs import name_outputs_at_source
from .prune import prune_unused

PASSES = (name_outputs_at_source, prune_unused)


def run_passes(model) -> None:
    for p in PASSES:
        p(model)
