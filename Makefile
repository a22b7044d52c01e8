# The README's two commands: `make demo` (main job) and `make test` (whole suite).
# Every process that imports rclpy runs inside the isolated-network wrapper.
VENV ?= .venv
PY := $(VENV)/bin/python
ISOLATED := $(PY) -m humanoid_teleop.isolation --
ROBOT ?= g1
# Held to mypy --strict (pyproject.toml); test/test_lint.py checks the same list.
MYPY_PATHS = humanoid_teleop/core humanoid_teleop/devices humanoid_teleop/session humanoid_teleop/cli humanoid_teleop/nodes

.PHONY: setup setup-browser setup-foxglove demo test lint clean

setup:
	@tools/setup_venv.sh

demo: setup
	$(ISOLATED) $(VENV)/bin/humanoid-teleop demo --robot $(ROBOT) --bag-dir bags

setup-browser:
	@tools/setup_browser.sh

setup-foxglove:
	@tools/setup_foxglove.sh

test: setup setup-browser setup-foxglove
	@tools/setup_lerobot.sh
	@tools/setup_label_studio.sh
	$(ISOLATED) $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy $(MYPY_PATHS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
