"""The ``humanoid-teleop`` command line: one module per subcommand, each with ``register()``."""
