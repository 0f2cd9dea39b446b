"""The site reconciler: one cycle of sync, heartbeat, monitor, retry and submit for one site."""
