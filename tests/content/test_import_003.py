"""Seed 003 (an HTML page copied as text) through the html-sections importer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.importers.base import ParseError
from content.importers.callouts import split_trailing_callouts
from content.importers.code_blocks import detect_language, fence, fence_code
from content.importers.html_sections import HtmlSectionsImporter
from content.model import Question
from tests.content.fuzzing import parse_or_refuse

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "content" / "sources"
SEED = next(SOURCES.glob("003_*.txt"))
NAME = f"content/sources/{SEED.name}"

CALLOUT_LABELS = {
    "Interview Tip",
    "Key Insight",
    "Pro Tip",
    "Rule of Thumb",
    "Best Practice",
    "Recommendation",
    "Production Recommendation",
    "Statistical Note",
    "Tuning Tip",
    "Critical Insight",
    "Reality Check",
}


@pytest.fixture(scope="module")
def questions() -> tuple[Question, ...]:
    return HtmlSectionsImporter().parse(SEED.read_text(encoding="utf-8"), NAME).questions


def by_prompt(questions: tuple[Question, ...], start: str) -> Question:
    found = [q for q in questions if q.prompt.startswith(start)]
    assert len(found) == 1, start
    return found[0]


def fenced(answer: str, language: str) -> list[str]:
    """The bodies of the fenced blocks in `answer` tagged with `language`."""
    return re.findall(rf"^```{language}\n(.*?)\n```$", answer, flags=re.M | re.S)


def test_all_36_questions_each_with_a_difficulty_and_ready(questions: tuple[Question, ...]) -> None:
    assert len(questions) == 36
    assert all(q.difficulty in {"easy", "medium", "hard"} for q in questions)
    assert all(q.status == "ready" and q.answer for q in questions)
    assert len({q.id for q in questions}) == 36
    levels = [q.difficulty for q in questions]
    assert (levels.count("easy"), levels.count("medium"), levels.count("hard")) == (8, 22, 6)


def test_level_glued_to_the_prompt_is_split_off(questions: tuple[Question, ...]) -> None:
    first = questions[0]
    assert first.prompt.endswith("When would you choose one over the other?")
    assert first.difficulty == "easy"
    assert first.source.file == NAME and first.source.line == 19
    assert not any(re.search(r"(Junior|Mid|Senior)$", q.prompt) for q in questions)


def test_deepspeed_question(questions: tuple[Question, ...]) -> None:
    q = by_prompt(questions, "Explain DeepSpeed ZeRO and its different stages.")
    assert q.prompt == "Explain DeepSpeed ZeRO and its different stages."
    assert q.difficulty == "hard"
    assert q.topic == "Distributed Training"
    (config,) = fenced(q.answer, "json")
    assert config.startswith("# DeepSpeed config for ZeRO Stage 2\n{")
    assert '"stage": 2,' in config and '"train_batch_size": 32' in config
    assert config.rstrip().endswith("}")
    assert "**ZeRO Stages**" in q.answer and "- ZeRO-3: + Partition parameters" in q.answer


def test_q_numbers_restart_in_every_section_and_all_are_kept(
    questions: tuple[Question, ...],
) -> None:
    # Q1 of section 01 and Q1 of section 02 are both there, under their own topics.
    pytorch = by_prompt(questions, "What are the key differences between PyTorch")
    parallel = by_prompt(questions, "What is the difference between Data Parallelism")
    assert pytorch.topic == "Training Frameworks"
    assert pytorch.tags == ("pytorch", "tensorflow", "jax")
    assert parallel.topic == "Distributed Training"
    topics = [q.topic for q in questions]
    assert len(set(topics)) == 10
    assert topics.count("Model Monitoring & Observability") == 4
    assert not any("," in t for t in topics)


def test_languages_are_fenced(questions: tuple[Question, ...]) -> None:
    jax = by_prompt(questions, "What is JAX")
    (code,) = fenced(jax.answer, "python")
    assert code.startswith("import jax.numpy as jnp\nfrom jax import grad, jit, vmap\n")
    assert "def loss_fn(params, x, y):\n    pred = jnp.dot(x, params)" in code

    sweeps = by_prompt(questions, "How do you implement hyperparameter tuning")
    (sweep_yaml,) = fenced(sweeps.answer, "yaml")
    assert sweep_yaml.startswith(
        "# sweep_config.yaml\nmethod: bayes\nmetric:\n  name: val_accuracy"
    )
    assert fenced(sweeps.answer, "python")[-1].startswith("# In training script\nimport wandb")

    alerts = by_prompt(questions, "How do you set up alerting")
    (rules,) = fenced(alerts.answer, "yaml")
    assert rules.startswith(
        "# Example Prometheus alerting rules\ngroups:\n  - name: ml_model_alerts"
    )
    assert "      - alert: ModelAccuracyDrop" in rules

    dvc = by_prompt(questions, "What is DVC")
    (commands,) = fenced(dvc.answer, "shell")
    assert commands.startswith("# Initialize DVC in a Git repo\ndvc init")
    assert "dvc checkout  # Fetches matching data version" in commands

    metadata = by_prompt(questions, "How do you version ML models")
    assert fenced(metadata.answer, "json")[0].count('"model_version": "2.1.0"') == 1


def test_a_code_looking_heading_stays_a_heading(questions: tuple[Question, ...]) -> None:
    q = by_prompt(questions, "Explain the difference between model.eval()")
    assert q.answer.startswith("**model.eval()**\n\nSets the model to evaluation mode.")
    assert "**torch.no_grad()**" in q.answer
    (code,) = fenced(q.answer, "python")
    assert code.endswith("# Don't forget to switch back for training\nmodel.train()")


def test_callouts_become_notes_and_leave_the_answer(questions: tuple[Question, ...]) -> None:
    first = questions[0]
    assert [n.label for n in first.notes] == ["Interview Tip"]
    assert first.notes[0].text.startswith("Mention that the gap has narrowed significantly.")
    assert "Interview Tip" not in first.answer and "Mention that the gap" not in first.answer
    labels = {n.label for q in questions for n in q.notes}
    assert labels >= CALLOUT_LABELS
    for q in questions:
        for note in q.notes:
            assert note.label not in q.answer
            assert note.text not in q.answer
            assert note.text and not note.text.startswith(note.label)
    dataloader = by_prompt(questions, "Explain the PyTorch DataLoader")
    assert dataloader.notes[0].label == "Rule of Thumb"
    assert dataloader.answer.endswith("If GPU util is low, data loading is the bottleneck.")


def test_run_together_tables_keep_every_cell(questions: tuple[Question, ...]) -> None:
    horovod = by_prompt(questions, "What is Horovod")
    assert "| Aspect | Horovod | PyTorch DDP |" in horovod.answer
    assert "| Performance | Excellent | Excellent (often faster) |" in horovod.answer
    assert "| Framework support | TF, PyTorch, MXNet | PyTorch only |" in horovod.answer
    assert "| Elastic training | Yes | TorchElastic |" in horovod.answer
    feast = by_prompt(questions, "Compare Feast, Tecton")
    assert "| Cost | Free + infra | $$$$ | Databricks pricing |" in feast.answer
    serving = by_prompt(questions, "Compare TensorFlow Serving")
    assert "| Frameworks | TensorFlow only | PyTorch only | TF, PyTorch, ONNX, TensorRT |" in (
        serving.answer
    )
    monitoring = by_prompt(questions, "Compare Evidently")
    assert "| Reports | Beautiful HTML | Dashboard | Data docs |" in monitoring.answer


def test_page_chrome_is_not_in_any_answer(questions: tuple[Question, ...]) -> None:
    for q in questions:
        assert "Topic Areas" not in q.answer and "50+ Questions" not in q.answer
        assert not re.search(r"^Q\d+$|^Section \d+$", q.answer, flags=re.M)


def test_header_claim_is_reported() -> None:
    result = HtmlSectionsImporter().parse(SEED.read_text(encoding="utf-8"), NAME)
    assert any("claims 38 questions" in w and "holds 36" in w for w in result.warnings)


def test_sniffer_prefers_its_own_seed() -> None:
    importer = HtmlSectionsImporter()
    own = importer.sniff(SEED.read_text(encoding="utf-8"), SEED.name)
    assert own >= 0.9
    for other in SOURCES.glob("*.txt"):
        if other != SEED:
            assert importer.sniff(other.read_text(encoding="utf-8"), other.name) < own


@pytest.mark.parametrize(
    "text", ["", "hello world\n", "Q1\n\nQ2\n", "Section 01\n\nTitle\n\nNothing here.\n"]
)
def test_garbage_raises_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as err:
        HtmlSectionsImporter().parse(text, "bad.txt")
    assert err.value.path == "bad.txt" and err.value.line >= 1


def test_a_question_without_a_level_is_kept_with_a_warning() -> None:
    text = "Section 01\n\nBasics\n\nQ1\nWhat is X?\n\nX is a thing.\nQ2\nWhat is Y?Mid\n\nY too.\n"
    result = HtmlSectionsImporter().parse(text, "small.txt")
    assert [q.difficulty for q in result.questions] == [None, "medium"]
    assert [q.answer for q in result.questions] == ["X is a thing.", "Y too."]
    assert any("Q1 has no level" in w for w in result.warnings)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Q1",
                "Q2",
                "Section 01",
                "Title (a, b)",
                "What?Junior",
                "  • item",
                "# c",
                "x = 1",
                "",
                "Interview Tip",
                "Some tip text here ok.",
                "AB",
                "{",
                "}",
            ]
        ),
        max_size=30,
    )
)
def test_parse_raises_only_parse_error_on_shaped_text(lines: list[str]) -> None:
    parse_or_refuse(HtmlSectionsImporter(), "\n".join(lines))


def test_language_detection_and_fences() -> None:
    assert detect_language(["FROM python:3.11", "RUN pip install x"]) == "dockerfile"
    assert detect_language(["# only a comment"]) is None
    assert detect_language(['{"a": 1}']) == "json"
    assert fence(["x = '```'"], "python") == "````python\nx = '```'\n````"
    assert fence_code(["key: 1", "other: two", "", "import os"]) == (
        "```yaml\nkey: 1\nother: two\n```\n\n```python\nimport os\n```"
    )


def test_trailing_callout_split() -> None:
    split = split_trailing_callouts(
        ["Heading", "", "  • a point.", "Pro Tip", "Always do the thing that works well."]
    )
    assert split.body == ["Heading", "", "  • a point."]
    assert [(n.label, n.text) for n in split.notes] == [
        ("Pro Tip", "Always do the thing that works well.")
    ]


def test_dockerfile_and_shell_samples_in_the_same_answer_get_their_own_fences() -> None:
    text = (
        "Section 01\n\nContainers (Docker, K8s)\n\nQ1\nHow do you containerise a model?Mid\n\n"
        "Dockerfile\n\nFROM python:3.11-slim\nWORKDIR /app\nRUN pip install -r r.txt\n\n"
        "Build and run it:\n\ndocker build -t model .\ndocker run -p 8000:8000 model\n"
        "Pro Tip\nPin the base image by digest so rebuilds are reproducible.\n"
    )
    (q,) = HtmlSectionsImporter().parse(text, "d.txt").questions
    assert q.topic == "Containers" and q.tags == ("docker", "k8s")
    assert q.answer == (
        "**Dockerfile**\n\n"
        "```dockerfile\nFROM python:3.11-slim\nWORKDIR /app\nRUN pip install -r r.txt\n```\n\n"
        "Build and run it:\n\n"
        "```shell\ndocker build -t model .\ndocker run -p 8000:8000 model\n```"
    )
    assert [n.label for n in q.notes] == ["Pro Tip"]
