"""Gamepad mapping presets (YAML) and the pad state they turn evdev events into.

A preset lists the Joy axes and buttons in order, by evdev code name, with per-axis dead zones
and optional raw ranges (otherwise the kernel's). Axis signs follow the ROS ``joy`` node:
stick left / up = +1, trigger released = +1, pulled = -1.

The pad reports what the operator does: every axis (after its dead zone) and every button,
whether or not the dead man is held. Which button is the dead man is said in one place, the
teleop profile's pad preset (``config/teleop/pads/<name>.yaml`` ``buttons.deadman``): the
teleop pipeline holds the robot while it is released (:meth:`JoystickRetargeter.deadman`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.resources import GAMEPAD_PRESETS
from humanoid_teleop.devices import config as cfg
from humanoid_teleop.devices.errors import DeviceDisconnected
from humanoid_teleop.devices.gamepad.evdev import (
    CODES,
    EV_ABS,
    EV_KEY,
    EV_SYN,
    SYN_DROPPED,
    SYN_REPORT,
    AbsInfo,
    EvdevDevice,
    InputEvent,
    device_names,
)

#: Raw range assumed for an axis when neither the preset nor the kernel gives one.
DEFAULT_RANGE = AbsInfo(-32768, 32767)


@dataclass(frozen=True)
class AxisMap:
    """One Joy axis: evdev code, dead zone (fraction of half-range), inversion, raw range."""

    code: int
    name: str
    deadzone: float = 0.0
    invert: bool = False
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class GamepadPreset:
    """A pad's mapping to sensor_msgs/Joy."""

    name: str
    match: tuple[str, ...]
    axes: tuple[AxisMap, ...]
    buttons: tuple[int, ...]
    button_names: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> GamepadPreset:
        """Build from a mapping; errors name ``source``, the key and the allowed codes."""
        if "deadman" in data:
            raise ConfigError(
                f"{cfg.at(source, data, 'deadman')}: the dead man is no longer set on the pad: it"
                " is the teleop pad preset's buttons.deadman (config/teleop/pads/); remove it here"
            )
        cfg.reject_unknown(data, ("name", "match", "axes", "buttons"), source)

        def code(value: object, parent: Any, key: str, where: str = "") -> int:
            if not isinstance(value, str) or value not in CODES:
                raise ConfigError(
                    f"{cfg.at(source, parent, key, where)}: is {value!r}; "
                    f"allowed: {', '.join(CODES)}"
                )
            return CODES[value]

        axes: list[AxisMap] = []
        for i, item in enumerate(data.get("axes") or []):
            where = f"axes[{i}]."
            if not isinstance(item, Mapping):
                raise ConfigError(f"{cfg.at(source, data, 'axes')}[{i}]: must be a mapping")
            cfg.reject_unknown(item, ("code", "deadzone", "invert", "min", "max"), source, where)
            deadzone = cfg.number(item, "deadzone", 0.0, source, where, minimum=0.0)
            if deadzone >= 1.0:
                raise ConfigError(
                    f"{cfg.at(source, item, 'deadzone', where)}: must be < 1, got {deadzone}"
                )
            invert = item.get("invert", False)
            if not isinstance(invert, bool):
                raise ConfigError(f"{cfg.at(source, item, 'invert', where)}: must be true or false")
            minimum = item.get("min")
            maximum = item.get("max")
            if (minimum is None) != (maximum is None):
                raise ConfigError(f"{cfg.at(source, item, 'min', where)}: min and max go together")
            if minimum is not None:
                minimum = cfg.integer(item, "min", 0, source, where)
                maximum = cfg.integer(item, "max", 0, source, where)
                if maximum <= minimum:
                    raise ConfigError(f"{cfg.at(source, item, 'max', where)}: must be > min")
            axes.append(
                AxisMap(
                    code(item.get("code"), item, "code", where),
                    str(item["code"]),
                    deadzone,
                    invert,
                    minimum,
                    maximum,
                )
            )
        raw_buttons = data.get("buttons") or []
        if not isinstance(raw_buttons, list):
            raise ConfigError(
                f"{cfg.at(source, data, 'buttons')}: must be a list of evdev button names"
            )
        buttons = tuple(code(b, data, "buttons") for b in raw_buttons)
        match = data.get("match") or []
        if not isinstance(match, list) or not all(isinstance(m, str) for m in match):
            raise ConfigError(
                f"{cfg.at(source, data, 'match')}: must be a list of device-name substrings"
            )
        if not axes and not buttons:
            raise ConfigError(f"{source}: a preset needs at least one axis or button")
        return cls(
            name=cfg.string(data, "name", Path(source).stem, source),
            match=tuple(match),
            axes=tuple(axes),
            buttons=buttons,
            button_names=tuple(str(b) for b in raw_buttons),
        )

    def matches(self, device_name: str) -> bool:
        """Whether ``device_name`` (from EVIOCGNAME) contains one of the ``match`` strings."""
        return any(m.lower() in device_name.lower() for m in self.match)


def shipped_presets() -> dict[str, Path]:
    """Preset name → file for the shipped presets (``config/devices/gamepad/<name>.yaml``)."""
    return GAMEPAD_PRESETS.files()


def load_preset(name_or_path: str) -> GamepadPreset:
    """A shipped preset by name, or a preset YAML file by path.

    Raises:
        ResourceNotFoundError: listing the shipped presets and where they were looked for.
    """
    path = GAMEPAD_PRESETS.find(name_or_path)
    return GamepadPreset.from_dict(cfg.load_yaml_mapping(path), source=str(path))


def preset_for(device_name: str) -> GamepadPreset:
    """The first shipped preset matching ``device_name``, else ``generic``."""
    for name in shipped_presets():
        preset = load_preset(name)
        if preset.matches(device_name):
            return preset
    return load_preset("generic")


def find_gamepad(
    wanted: GamepadPreset | None, directory: Path = Path("/dev/input")
) -> tuple[str, str]:
    """Path and name of the first pad in ``directory`` for ``wanted`` (None: any shipped preset).

    A preset with an empty ``match`` list (``generic``) takes the first device with an X axis.

    Raises:
        DeviceDisconnected: listing the readable input devices when none fits.
    """
    names = device_names(directory)
    presets = [wanted] if wanted else [load_preset(p) for p in shipped_presets()]
    for path, name in names.items():
        if any(p.matches(name) for p in presets):
            return path, name
    if wanted is not None and not wanted.match:
        for path, name in names.items():
            device = EvdevDevice(path)
            has_x = device.absinfo(CODES["ABS_X"]) is not None
            device.close()
            if has_x:
                return path, name
    listing = ", ".join(f"{p} ({n})" for p, n in names.items()) or "none"
    raise DeviceDisconnected(
        f"no gamepad found in {directory} (readable input devices: {listing}); "
        "plug one in, check the user is in the 'input' group, or set 'device'"
    )


def normalize(raw: int, info: AbsInfo, deadzone: float, invert: bool) -> float:
    """Raw axis value → [-1, 1] with the joy node's sign (minimum → +1) and a dead zone."""
    center = (info.minimum + info.maximum) / 2.0
    half = (info.maximum - info.minimum) / 2.0
    value = -(raw - center) / half if half > 0 else 0.0
    value = max(-1.0, min(1.0, value))
    if invert:
        value = -value
    magnitude = abs(value)
    if magnitude <= deadzone:
        return 0.0
    return (1.0 if value > 0 else -1.0) * (magnitude - deadzone) / (1.0 - deadzone)


@dataclass(frozen=True)
class JoySample:
    """A complete pad state: Joy axes [-1, 1], buttons 0/1, kernel time [s]."""

    axes: tuple[float, ...]
    buttons: tuple[int, ...]
    time_s: float


class PadState:
    """Applies evdev events; each SYN_REPORT yields a :class:`JoySample`."""

    def __init__(self, preset: GamepadPreset, ranges: Mapping[int, AbsInfo]) -> None:
        self.preset = preset
        self._ranges: dict[int, AbsInfo] = {}
        self._raw: dict[int, int] = {}
        for axis in preset.axes:
            kernel = ranges.get(axis.code)
            if axis.minimum is not None and axis.maximum is not None:
                info = AbsInfo(axis.minimum, axis.maximum)
            else:
                info = kernel or DEFAULT_RANGE
            self._ranges[axis.code] = info
            # Start from the kernel's current value when known, else the middle of the range.
            start = kernel.value if kernel is not None else None
            self._raw[axis.code] = start if start is not None else self._center(axis.code)
        self._keys = dict.fromkeys(preset.buttons, 0)
        self._dropped = False
        self._pending: list[InputEvent] = []

    def _center(self, code: int) -> int:
        info = self._ranges[code]
        return (info.minimum + info.maximum) // 2

    def apply(self, events: Sequence[InputEvent]) -> list[JoySample]:
        """Apply events report by report; return one sample per complete SYN_REPORT.

        Events are held until their SYN_REPORT and applied together. SYN_DROPPED (the kernel
        lost events) voids the pending events and everything up to the next SYN_REPORT.
        """
        samples: list[JoySample] = []
        for event in events:
            if event.type == EV_SYN and event.code == SYN_DROPPED:
                self._pending.clear()
                self._dropped = True
            elif event.type == EV_SYN and event.code == SYN_REPORT:
                if self._dropped:
                    self._dropped = False
                else:
                    for pending in self._pending:
                        self._set(pending)
                    samples.append(self.sample(event.time_s))
                self._pending.clear()
            elif not self._dropped:
                self._pending.append(event)
        return samples

    def _set(self, event: InputEvent) -> None:
        if event.type == EV_ABS and event.code in self._raw:
            self._raw[event.code] = event.value
        elif event.type == EV_KEY and event.code in self._keys:
            self._keys[event.code] = 1 if event.value else 0

    def sample(self, time_s: float) -> JoySample:
        """The current state as a Joy sample: every axis after its dead zone, every button."""
        preset = self.preset
        axes = tuple(
            normalize(self._raw[a.code], self._ranges[a.code], a.deadzone, a.invert)
            for a in preset.axes
        )
        buttons = tuple(self._keys[b] for b in preset.buttons)
        return JoySample(axes, buttons, time_s)
