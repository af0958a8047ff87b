"""Refuse to run beside mmsegmentation: both install a package called ``mmseg``, so in one environment one of
them shadows the other (or pip mixes their files) and imports fail far from the cause."""
import importlib.metadata
from pathlib import Path

CONFLICTING_DISTRIBUTIONS = ('mmsegmentation', )


class PackageConflictError(ImportError):
    """Another distribution that installs ``mmseg`` is in this environment."""


def check_no_mmsegmentation() -> None:
    """Raise :class:`PackageConflictError` when a distribution of :data:`CONFLICTING_DISTRIBUTIONS` is installed,
    naming it, where it is and how to keep the two apart."""
    ours = Path(__file__).resolve().parent
    for name in CONFLICTING_DISTRIBUTIONS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        location = Path(str(dist.locate_file(''))).resolve()
        raise PackageConflictError(
            f'{name} {dist.version} is installed in this environment ({location}); it provides a package called '
            f'"mmseg" too, so one shadows the other (this import found uda-seg at {ours}). Keep them in separate '
            f'virtual environments: `python -m venv .venv-uda && .venv-uda/bin/pip install -e .` for uda-seg (or '
            f'`make install`, which creates .venv), or `pip uninstall {name}` here.')
