"""``python -m suite.report``: one report, with plots, of everything rnnbench measured."""
