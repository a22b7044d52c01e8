"""An example retargeter plugin package for humanoid_teleop (see docs/integrators.md)."""
