import pytest

import impls


def framework_params(frameworks=impls.FRAMEWORKS):
    """pytest params, one per framework, skipped where the framework is not installed."""
    installed = impls.available()
    return [
        pytest.param(f, marks=pytest.mark.skipif(f not in installed, reason=f"{f} not installed"))
        for f in frameworks
    ]
