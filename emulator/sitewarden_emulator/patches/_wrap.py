"""The one way a patch replaces a moto method while keeping the original to call."""

from functools import wraps


def wrap(cls: type, name: str):
    """Decorator: replace `cls.name` by the decorated function, which gets the original first."""

    def install(fn):
        original = getattr(cls, name)

        @wraps(original)
        def wrapper(*args, **kwargs):
            return fn(original, *args, **kwargs)

        setattr(cls, name, wrapper)
        return fn

    return install
