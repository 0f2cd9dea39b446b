"""One attempt of a job: the script it runs, the stage-out on the worker, its return card."""
