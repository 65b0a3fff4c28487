"""Exit 0 when every requirement in the given requirements files is installed in this
interpreter's environment (used by run.sh to reuse a venv without asking a package index)."""

from __future__ import annotations

import sys
from importlib import metadata

try:
    from packaging.requirements import Requirement
except ImportError:  # a venv that pip has not populated yet still has pip's vendored copy
    from pip._vendor.packaging.requirements import Requirement


def unmet(path: str) -> list[str]:
    missing = []
    for raw in open(path, encoding="utf-8"):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            missing.append(f"{req} (not installed)")
            continue
        if not req.specifier.contains(version, prereleases=True):
            missing.append(f"{req} (have {version})")
    return missing


def main() -> int:
    problems = [p for path in sys.argv[1:] for p in unmet(path)]
    for p in problems:
        print(f"  unmet: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
