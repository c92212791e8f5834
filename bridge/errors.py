"""Every error a user can cause is a BridgeError with a message that says what
went wrong, where (file, layer name and class) and what to do about it.

A message is one line of bounded length whatever the file holds: its lines
are joined with " | ", other control characters escaped, names shortened in
the middle (`short`), and a message past MAX_MESSAGE characters keeps its
start (the file, the layer) and its end (what to do)."""

import re

MAX_NAME = 80
MAX_MESSAGE = 4000
_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*")


class BridgeWarning(UserWarning):
    """Something converted, but the user should know (e.g. an assumed backend)."""


class BridgeError(Exception):
    """Base of every error a user of the converter can cause."""

    def __str__(self) -> str:
        # lines (a listing in the message) joined with " | ": one line on stderr
        return one_line(_LINE_BREAK.sub(" | ", super().__str__()), MAX_MESSAGE)


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


class LimitError(BridgeError):
    """The file asks for more than a limit allows (bridge.Limits): a zip bomb,
    a dataset far larger than the file, nesting too deep, a huge dimension."""


class OutputError(BridgeError):
    """The ONNX file cannot be written where asked (no such folder, not
    writable, a directory, a name too long)."""


def layer_where(layer, path: str = ""):
    """layer 'name' (Class) for messages; `path`: the names of the models
    it is nested in, 'outer/inner'."""
    name = f"{path}/{layer.name}" if path else str(layer.name)
    return f"layer '{short(name)}' ({short(str(layer.class_name))})"


def short(text, limit: int = MAX_NAME) -> str:
    """`text` (a name from the file) in at most `limit` characters, cut in
    the middle, control characters escaped."""
    return one_line(str(text), limit)


def one_line(text: str, limit: int) -> str:
    """`text` with control characters escaped, cut in the middle to `limit`."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                       for c in text)
    if len(text) > limit:
        keep = limit - 5
        head = keep * 2 // 3
        text = f"{text[:head]} ... {text[len(text) - (keep - head):]}"
    return text
class RuntimeMissingError(BridgeError):
    """A runtime asked for (--runtime / --target) is unknown or not installed."""


class RuntimeRunError(BridgeError):
    """A runtime other than ONNX Runtime refused or failed to run the model."""


class TargetError(BridgeError):
    """An unknown --target, or an option the target cannot honour."""
