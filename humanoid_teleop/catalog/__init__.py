"""The episode catalog: an index of recorded episodes (metadata, QC verdict, annotations) in
SQLite or PostgreSQL, queried and reported on by ``humanoid-teleop catalog``. No rclpy here."""
