"""Annotations of recorded episodes: the versioned schema, the append-only sidecar beside an
episode, automatic pre-annotations and the Label Studio round trip. No rclpy here."""
