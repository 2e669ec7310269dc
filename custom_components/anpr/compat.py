"""Differences between the Home Assistant releases the integration supports.

One module holds every version difference, so the rest of the code reads as if there were one
Home Assistant. Each shim names the release that needs it: when the oldest supported release
(`hacs.json`) reaches that release, delete the shim's old branch. Features are
detected, not version numbers compared, so a backport or a dev build takes the right branch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from homeassistant import exceptions as ha_exceptions
from homeassistant.helpers import device_registry as dr

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

# HA 2026.3: `Store.async_load` raises `UnsupportedStorageVersionError` itself when the stored
# major version is newer than the store's, before the migrate function runs. Older releases
# call the migrate function, which raises `NotImplementedError` for such a document.
_UNSUPPORTED_STORAGE = getattr(ha_exceptions, "UnsupportedStorageVersionError", None)
STORE_VERSION_TOO_NEW: tuple[type[Exception], ...] = (
    (NotImplementedError,)
    if _UNSUPPORTED_STORAGE is None
    else (NotImplementedError, _UNSUPPORTED_STORAGE)
)


def async_get_device(
    registry: dr.DeviceRegistry, identifier: tuple[str, str], config_entry_id: str
) -> dr.DeviceEntry | None:
    """Return the config entry's device with `identifier`.

    HA 2026.9: identifiers are unique only within a config entry; `async_get_device(
    identifiers=...)` is deprecated (it stops working in 2027.8) for
    `async_get_device_by_identifier`, which older releases lack.
    """
    if (by_identifier := getattr(registry, "async_get_device_by_identifier", None)) is not None:
        return cast("dr.DeviceEntry | None", by_identifier(identifier, config_entry_id))
    return registry.async_get_device(identifiers={identifier})


def via_device(
    hass: HomeAssistant, identifier: tuple[str, str], config_entry_id: str
) -> dr.DeviceInfo:
    """Return the device-info keys that place a device under the parent `identifier`.

    HA 2026.9: `DeviceInfo(via_device=identifier)` is deprecated (it stops working in 2027.8)
    for `via_device_id`, the parent's registry id, which older releases lack. The parent must
    be registered already.
    """
    if "via_device_id" not in dr.DeviceInfo.__annotations__:
        return dr.DeviceInfo(via_device=identifier)
    parent = async_get_device(dr.async_get(hass), identifier, config_entry_id)
    return cast("dr.DeviceInfo", {"via_device_id": parent.id} if parent else {})
