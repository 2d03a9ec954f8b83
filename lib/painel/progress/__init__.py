"""The learning-progress suite: weekly Cademi progress snapshots, class tags, tutor dashboards."""
