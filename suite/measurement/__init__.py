"""What the speed and memory study and the regression gate share: the workloads, the grids, the benchmark
kinds, the measurement in a worker process, and whether a timing is stable."""
