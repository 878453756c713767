"""What every study's findings share: a missing result names its command; machines are named."""

from importlib import import_module

from suite.report.loading import Results
from suite.report.machines import machine
from suite.studies import STUDIES
from tests.suite.report.records import GPU


def test_every_study_without_results_names_the_command_that_measures_them():
    for study in STUDIES:
        found = import_module(study.report).findings(Results())
        assert found, study.name
        for f in found:
            assert f.text.startswith("not measured"), (study.name, f.text)
            assert any(
                f"`{command}`" in f.text and command in f.answer for command in study.measures.values()
            )


def test_machine_names_the_gpu_on_a_gpu_run_and_the_cpu_otherwise():
    assert machine({"device": "gpu", "environment": GPU}) == "Test GPU (GPU)"
    assert (
        machine({"device": "cpu", "environment": {"cpu": "Intel(R) Xeon(R) X", "cores": 4}})
        == "Intel Xeon X, 4 cores"
    )
