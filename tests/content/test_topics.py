"""One subject is one topic: the key, the subject a heading names, bank-wide unification
on import, the channel filters, and the committed bank itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.rules.inputs import InputError
from bot.service.filters import Filters, filters_request
from content.bank import load_bank
from content.importers.pdf_qa import PdfQaImporter
from content.importing import default_bank_dir, import_files
from content.topics import (
    choose_spellings,
    clean_topic,
    names_a_collection,
    subject_of,
    topic_key,
)

NONE = Filters([], [], None)


# ------------------------------------------------------------------------------ the key


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("Model Versioning & Registry", "model versioning and registry"),
        ("model versioning and registry", "model versioning and registry"),
        ("MODEL  VERSIONING&REGISTRY", "model versioning and registry"),
        ("Model\u00a0Versioning \u200band Registry", "model versioning and registry"),
        ("\ufeffModel Versioning + Registry:", "model versioning and registry"),
        ("ＭＬＯｐｓ", "mlops"),  # full-width letters, NFKC
        ("Straße", "strasse"),  # case folded, not only lowered
        ("C++ Questions", "c++ questions"),  # a `+` inside a word is not "and"
        ("CI/CD & MLOps", "ci/cd and mlops"),
        ("", ""),
    ],
)
def test_topic_key_folds_spelling(spelling: str, key: str) -> None:
    assert topic_key(spelling) == key


def test_different_subjects_keep_different_keys() -> None:
    assert topic_key("CI/CD for ML") != topic_key("CI/CD for ML Pipelines")
    assert topic_key("Cloud-based MLOps Solutions") != topic_key("Cloud based MLOps Solutions")


def test_clean_topic_keeps_the_spelling_but_not_invisible_characters() -> None:
    assert clean_topic(" Model\u00a0Versioning\u200b &  Registry ") == "Model Versioning & Registry"


@pytest.mark.parametrize(
    ("heading", "subject"),
    [
        ("The Ultimate Guide to MLOps Interview Questions", "MLOps"),
        ("17 Common Interview Questions for MLOps", "MLOps"),
        ("Top 100 MLOps interview questions and answers", "MLOps"),
        ("Top 50 Docker Interview Questions for 2024", "Docker"),
        ("Kubernetes: Interview Questions", "Kubernetes"),
        ("A Complete Guide to Kafka", "Kafka"),
        ("ML Pipeline Best Practices Interview Questions and Answers", "ML Pipeline Best Practices"),
        ("Why CI/CD differs for ML vs software in MLOps - Quick Recap",
         "Why CI/CD differs for ML vs software in MLOps"),
        ("Interview Questions", ""),
        ("50 Common Interview Questions", ""),
        ("Questions and Answers", ""),
        # Subjects are returned as written.
        ("General Questions on ML Pipelines", "General Questions on ML Pipelines"),
        ("Model Versioning & Registry", "Model Versioning & Registry"),
        ("Top 10 Tools for MLOps", "Top 10 Tools for MLOps"),
    ],
)
def test_subject_of_a_heading(heading: str, subject: str) -> None:
    assert subject_of(heading) == subject


@pytest.mark.parametrize(
    ("topic", "collection"),
    [
        ("17 Common Interview Questions for MLOps", True),
        ("The Ultimate Guide to MLOps Interview Questions", True),
        ("Interview Questions", True),
        ("50+ Questions", True),
        ("MLOps", False),
        ("General Questions on ML Pipelines", False),
        ("Why CI/CD differs for ML vs software in MLOps", False),
    ],
)
def test_names_a_collection(topic: str, collection: bool) -> None:
    assert names_a_collection(topic) is collection


def test_kept_spellings_win_then_the_first_incoming() -> None:
    chosen = choose_spellings(
        ["Model Versioning & Registry", "Docker"],
        ["model versioning and registry", "Feature\u00a0Stores", "feature stores", ""],
    )
    assert chosen == {
        "model versioning and registry": "Model Versioning & Registry",
        "docker": "Docker",
        "feature stores": "Feature Stores",
    }


# ------------------------------------------------------------------ the importers' topics


def test_pdf_questions_before_any_section_get_the_titles_subject() -> None:
    text = (
        "MLOps Interview Questions\n\nQ1: What is a pipeline?\nA chain of steps.\n\n"
        "1. Serving\nQ2: What is serving?\nAnswering requests.\n"
    )
    result = PdfQaImporter().parse(text, "c.txt")
    assert [(q.prompt, q.topic) for q in result.questions] == [
        ("What is a pipeline?", "MLOps"),
        ("What is serving?", "Serving"),
    ]


# --------------------------------------------------------------- unification on import

_HEADER = "question,answer,topic\n"


def _write(path: Path, *rows: str) -> Path:
    path.write_text(_HEADER + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


def _topics(bank: Path) -> dict[str, list[str]]:
    return {f.path.name: [q.topic for q in f.questions] for f in load_bank(bank).files}


@pytest.fixture
def sources(tmp_path: Path) -> tuple[Path, Path]:
    a = _write(tmp_path / "a.csv",
               "What is a model registry?,A store of model versions.,Model Versioning & Registry",
               "What is Docker?,A container tool.,Docker")
    b = _write(tmp_path / "b.csv",
               "How do you roll back a model?,Point the alias back.,model versioning  and registry",
               "What is Kubernetes?,A container scheduler.,docker")
    return a, b


def test_two_sources_two_spellings_one_topic(tmp_path: Path, sources: tuple[Path, Path]) -> None:
    a, b = sources
    bank = tmp_path / "bank"
    report = import_files([b, a], bank)  # the order files are named in does not matter
    assert report.ok
    assert _topics(bank) == {
        "a.yaml": ["Model Versioning & Registry", "Docker"],
        "b.yaml": ["Model Versioning & Registry", "Docker"],
    }
    before = {p.name: p.read_bytes() for p in bank.iterdir()}
    again = import_files([a, b], bank)
    assert not any(f.written for f in again.files)
    assert {p.name: p.read_bytes() for p in bank.iterdir()} == before


def test_the_spelling_already_in_the_bank_wins(tmp_path: Path, sources: tuple[Path, Path]) -> None:
    a, b = sources
    bank = tmp_path / "bank"
    import_files([b], bank)
    assert _topics(bank) == {"b.yaml": ["model versioning and registry", "docker"]}
    b_bytes = (bank / "b.yaml").read_bytes()
    import_files([a], bank)  # a sorts first, but b already spells the subject
    assert _topics(bank) == {
        "a.yaml": ["model versioning and registry", "docker"],
        "b.yaml": ["model versioning and registry", "docker"],
    }
    assert (bank / "b.yaml").read_bytes() == b_bytes  # importing a never rewrites b


def test_dry_run_writes_nothing(tmp_path: Path, sources: tuple[Path, Path]) -> None:
    report = import_files(list(sources), tmp_path / "bank", dry_run=True)
    assert report.ok
    assert not (tmp_path / "bank").exists() or not any((tmp_path / "bank").iterdir())


def test_a_collection_topic_in_the_bank_is_replaced_on_reimport(tmp_path: Path) -> None:
    source = _write(tmp_path / "a.csv", "What is Docker?,A container tool.,Docker")
    bank = tmp_path / "bank"
    import_files([source], bank)
    bank_file = bank / "a.yaml"
    reviewed = bank_file.read_text("utf-8").replace(
        "answer: A container tool.", "answer: A container tool (reviewed)."
    ).replace("topic: Docker", "topic: 17 Common Interview Questions for Docker")
    bank_file.write_text(reviewed, encoding="utf-8")
    import_files([source], bank)
    (question,) = load_bank(bank).files[0].questions
    assert (question.topic, question.answer) == ("Docker", "A container tool (reviewed).")


def test_collection_headings_of_any_importer_become_their_subject(tmp_path: Path) -> None:
    source = tmp_path / "m.md"
    source.write_text(
        "# MLOps Bank\n\n## 17 Common Interview Questions for MLOps\n\n### What is MLOps?\n\n"
        "Ops for ML.\n\n## The Ultimate Guide to Docker Interview Questions\n\n"
        "### What is Docker?\n\nA container tool.\n",
        encoding="utf-8",
    )
    csv = _write(tmp_path / "n.csv", "What is Kafka?,A log.,Top 10 Kafka Interview Questions")
    bank = tmp_path / "bank"
    assert import_files([source, csv], bank).ok
    assert _topics(bank) == {"m.yaml": ["MLOps", "Docker"], "n.yaml": ["Kafka"]}


# ---------------------------------------------------------------------- channel filters


def test_include_matches_by_key() -> None:
    known = ["Docker", "Model Versioning & Registry"]
    chosen = filters_request({"include": "model versioning and registry"}, known, NONE)
    assert chosen.include == ["Model Versioning & Registry"]
    chosen = filters_request({"exclude": " DOCKER , model\u00a0versioning + registry"}, known,
                             NONE)
    assert chosen.exclude == ["Docker", "Model Versioning & Registry"]


def test_a_key_two_stored_spellings_share_names_both() -> None:
    known = ["Model Versioning & Registry", "Model Versioning and Registry"]
    chosen = filters_request({"include": "model versioning & registry"}, known, NONE)
    assert chosen.include == ["Model Versioning & Registry", "Model Versioning and Registry"]


def test_unknown_and_empty_keys_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        filters_request({"include": "Model Versioning, &, -"}, ["Model Versioning & Registry"],
                        NONE)
    assert caught.value.problems == (
        "unknown topics 'Model Versioning', '&', '-'; valid topics: Model Versioning & Registry",
    )


# ------------------------------------------------------------------- the committed bank

_LISTICLE = re.compile(r"\d+ .*interview questions|ultimate guide", re.IGNORECASE)


def test_the_committed_bank_has_one_topic_per_subject_and_no_titles() -> None:
    topics = sorted({q.topic for f in load_bank(default_bank_dir()).files for q in f.questions})
    by_key: dict[str, list[str]] = {}
    for t in topics:
        by_key.setdefault(topic_key(t), []).append(t)
    assert [spellings for spellings in by_key.values() if len(spellings) > 1] == []
    assert [t for t in topics if _LISTICLE.search(t) or names_a_collection(t)] == []
    assert "" not in topics
    assert len(topics) == 44
    assert "Model Versioning and Registry" in topics and "MLOps" in topics
