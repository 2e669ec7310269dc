"""Run pytest with Home Assistant imported first: `python script/ha_pytest.py ARGS...`.

Home Assistant 2026.11 puts its own replacements in place of httpx and voluptuous when the
`homeassistant` package is imported, and refuses to start if httpx was imported before it. The
test harness imports httpx while pytest loads its plugins; importing `homeassistant` first
keeps the order of a real start. On older releases the import changes nothing.
"""

import sys

import homeassistant  # noqa: F401  # before pytest and its plugins, see above
import pytest

if __name__ == "__main__":
    sys.exit(pytest.main())
