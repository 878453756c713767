"""The training spine shared by the learning, capacity and gradient studies: one job spec, one key per job,
one scheduler and one resume rule."""
