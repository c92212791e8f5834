"""Graph clean-up passes, one per module; each returns whether it changed the model."""
from .maxpool_zero_pad import guard_zero_pad_maxpool
from .outputs import name_outputs_at_source
from .prune import prune_unused

# prune last: a rewrite may leave constants unused
PASSES = (name_outputs_at_source, guard_zero_pad_maxpool, prune_unused)


def run_passes(model) -> None:
    for p in PASSES:
        p(model)
