"""The learning study's findings, computed from small fixtures."""

from suite.studies.learning.report import learning_findings
from tests.suite.report.records import accuracy


def test_learning_names_the_longest_length_solved_per_cell():
    records = [
        accuracy("lstm", 10, True),
        accuracy("lstm", 20, True),
        accuracy("lstm", 20, False, seed=1),
        accuracy("lstm", 40, False),
        accuracy("rnn", 10, False),
        accuracy("rnn", 20, False),
    ]
    (found,) = learning_findings(records, "CMD")
    assert "tanh RNN at no length tried (T=10, 20)" in found.text
    assert "LSTM up to T=20 (1/2 runs)" in found.text and "GRU" not in found.text
