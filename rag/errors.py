"""Errors with messages a user can act on."""


def first_line(e: BaseException, limit: int = 200) -> str:
    """An exception's message cut to its first line (`limit` characters), or its type's name
    when it has none: what a one-line error message quotes of a library's error."""
    return (str(e).splitlines() or [type(e).__name__])[0][:limit]


class RagError(Exception):
    """Base class for every error this package raises on purpose."""


class IngestError(RagError):
    """A report file could not be read; the message names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexStoreError(RagError):
    """The index folder is missing, corrupt or was built with other settings."""


class ModelError(RagError):
    """An embedding model could not be loaded or does not match the index."""


class ConfigError(RagError):
    """A setting or argument has a bad value."""
