"""Two of Home Assistant's demo lights (a bed light and a ceiling light) for the demo."""

from __future__ import annotations

from homeassistant.components.demo.light import DemoLight
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType


class NamedDemoLight(DemoLight):
    """A demo light named by itself (a YAML platform has no device to name it)."""

    _attr_has_entity_name = False

    def __init__(self, name: str, unique_id: str, ct: int) -> None:
        """Initialise a light that is on, bright and neutral white."""
        super().__init__(
            unique_id=unique_id,
            device_name=name,
            state=True,
            available=True,
            brightness=255,
            ct=ct,
        )
        self._attr_name = name  # type: ignore[assignment]  # DemoLight types it None


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the bed light and the ceiling light."""
    async_add_entities(
        [
            NamedDemoLight("Bed light", "demo_bed_light", 4000),
            NamedDemoLight("Ceiling light", "demo_ceiling_light", 5000),
        ]
    )
