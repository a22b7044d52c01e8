"""Porting recorded episodes to another robot (``humanoid-teleop port``) and measuring how
well the task survives: the portability report, in physics when the episode has a scene."""
