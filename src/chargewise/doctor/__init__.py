"""The connectivity doctor: pure functions from what a server can observe (signals) to root causes
(findings). No I/O here; adapters record the signals and render the findings. Facts and thresholds come from
``connectivity.md`` (the project's domain notes), cited in each data table."""
