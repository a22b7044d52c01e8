"""How our nodes run: the executor they spin with and one ``main()`` body for all of them."""

from __future__ import annotations

import gc
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import rclpy
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from humanoid_teleop.core.errors import TeleopError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop a node cleanly."""

NodeT = TypeVar("NodeT", bound=Node)


def preferred_executor() -> Executor:
    """The C++ events executor when this rclpy has it (far less CPU per callback than the
    Python executors), else the standard single-threaded one."""
    try:
        from rclpy.experimental.events_executor import EventsExecutor
    except ImportError:
        return SingleThreadedExecutor()
    executor: Executor = EventsExecutor()
    return executor


def run_node(
    name: str,
    factory: Callable[[], NodeT],
    *,
    start: Callable[[NodeT], None] | None = None,
    close: Callable[[NodeT], None] | None = None,
    args: Sequence[str] | None = None,
    executor: Callable[[], Executor] = preferred_executor,
) -> int:
    """Build a node, spin it until Ctrl-C / SIGTERM, then tear it down in order.

    ``start`` runs once the node is in the executor (e.g. start worker threads); ``close``
    runs before the node is destroyed (stop threads, servers, ports); ``executor`` makes the
    executor (default :func:`preferred_executor`). A TeleopError while
    building is printed as ``<name>: <message>`` and gives exit code 2; a clean stop gives 0.
    Signals are handled here, not by rclpy, so the node is destroyed before the context.
    """
    rclpy.init(
        args=None if args is None else list(args), signal_handler_options=SignalHandlerOptions.NO
    )
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    node: NodeT | None = None
    spinner = executor()
    try:
        node = factory()
        spinner.add_node(node)
        if start is not None:
            start(node)
        # Everything built so far (robot model, messages types, rclpy) lives for the whole
        # run: keep it out of the garbage collector's full passes, which would otherwise walk
        # it now and then and stall a callback (teleop_node: ~70 ms a pass, bench/kernels.py).
        gc.freeze()
        while not stop.is_set() and rclpy.ok():
            spinner.spin_once(timeout_sec=0.1)
    except TeleopError as err:
        print(f"{name}: {err}", file=sys.stderr)
        return 2
    finally:
        if node is not None and close is not None:
            close(node)
        spinner.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
