"""The FormSync hub: receives camera frames, keeps the latest per camera, tells subscribers."""
