"""A minimal base for results-dict transforms (MMEngine has none; mmcv's needs mmcv)."""
from typing import Any


class BaseTransform:
    """``__call__(results: dict) -> dict``; subclasses implement :meth:`transform`.

    ``repr`` lists the public attributes, so a built pipeline prints its configuration.
    """

    def __call__(self, results: dict) -> dict:
        return self.transform(results)

    def transform(self, results: dict) -> dict:
        raise NotImplementedError

    def require(self, results: dict, key: str) -> Any:
        """``results[key]``, or a KeyError naming this transform and the keys present."""
        if key not in results:
            where = f" (file {results['filename']})" if 'filename' in results else ''
            raise KeyError(f'{type(self).__name__} needs results[{key!r}]{where}; present '
                           f'keys: {sorted(results)}. Is a transform missing before it?')
        return results[key]

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items() if not k.startswith('_'))
        return f'{type(self).__name__}({args})'
