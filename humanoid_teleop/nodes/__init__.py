"""Thin rclpy nodes: read parameters, convert messages, call the core, publish."""
