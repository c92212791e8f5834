"""Every error a user can cause is a BridgeError with a message that says what
went wrong, where (file, layer name and class) and what to do about it."""


class BridgeWarning(UserWarning):
    """Something converted, but the user should know (e.g. an assumed backend)."""


class BridgeError(Exception):
    """Base of every error a user of the converter can cause."""


class InputFileError(BridgeError):
    """The path is missing, a directory, or not a readable Keras file."""


class ConfigError(BridgeError):
    """The model architecture (JSON config) is malformed or inconsistent."""


class WeightsError(BridgeError):
    """Stored weights are missing or do not fit the architecture."""


class UnsupportedError(BridgeError):
    """One or more layers or options cannot be converted."""

    def __init__(self, problems, source: str = ""):
        self.problems = list(problems)
        n = len(self.problems)
        head = "1 layer is not supported" if n == 1 else f"{n} layers are not supported"
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + head + ": " + "; ".join(self.problems))


class Malformed(str):
    """A problem an emitter's `check` reports because the layer's config is
    malformed (a value Keras itself would refuse), not merely unsupported:
    the support stage raises ConfigError for these, UnsupportedError for the
    rest. `malformed("padding 'x' is ...")` makes one."""


def malformed(problem: str) -> Malformed:
    return Malformed(problem)


def same_kind(problem: str, text: str) -> str:
    """`text` (a rewording of `problem`) marked malformed when `problem` was."""
    return Malformed(text) if isinstance(problem, Malformed) else text


class OpsetError(BridgeError):
    """The requested opset is outside what the converter and runtime support."""


class ReferenceError_(BridgeError):
    """A reference file for parity checking is missing or does not fit the model."""


class OptionError(BridgeError):
    """An option (precision, a batch's output folder, ...) has a value this converter cannot take."""


class DependencyError(BridgeError):
    """A feature needs an optional dependency (an extra) that is not installed."""


def layer_where(layer):
    """'name' (Class) for messages."""
    return f"layer '{layer.name}' ({layer.class_name})"


class RuntimeMissingError(BridgeError):
    """A runtime asked for (--runtime / --target) is unknown or not installed."""


class RuntimeRunError(BridgeError):
    """A runtime other than ONNX Runtime refused or failed to run the model."""


class TargetError(BridgeError):
    """An unknown --target, or an option the target cannot honour."""
