"""The held-out set is held out: written apart from everything the brain was tuned on."""

from pathlib import Path

from assistant.evaluation.overlap import case_texts, example_texts, shared_runs, word_runs
from assistant.evaluation.runner import load_cases

HOLDOUT = Path(__file__).resolve().parents[3] / "assistant" / "evaluation" / "holdout"


def test_word_runs_ignore_case_and_punctuation() -> None:
    assert word_runs("Don't route it, please; to #Finance!") == {
        ("dont", "route", "it", "please", "to"),
        ("route", "it", "please", "to", "finance"),
    }


def test_no_held_out_case_shares_five_words_with_tuning_text() -> None:
    tuning = [*case_texts(*load_cases(None)), *example_texts()]
    held_out = list(case_texts(*load_cases(HOLDOUT)))
    assert len(held_out) >= 100
    shared = shared_runs(held_out, tuning)
    assert not shared, {text[:60]: runs for text, runs in shared.items()}
