"""Near-duplicate questions across sources ("what is model drift", worded five ways).

Two prompts are the same question when
1. their *key phrases* agree: the first clause, with the lead-in ("Can you explain the
   concept of", "How do you handle", ...) and the trailing context ("in MLOps", "for ML
   models in production") removed, reduced to its content words (crudely stemmed, weak
   qualifiers such as "model" dropped, so "model reproducibility" ~ "reproducibility").
   Every term on each side needs a fuzzy counterpart (`TERM_MATCH`) on the other, so a
   word on one side only ("data" drift vs "model" drift, "regulatory" challenges, "canary"
   vs "blue green") keeps them apart: the distinguishing words are exactly what a fuzzy
   score over the whole prompt would average away; and
2. rapidfuzz's `token_set_ratio` of the normalised prompts reaches `THRESHOLD`.
Identical prompts (after folding case and punctuation) always match.

Candidate pairs come from `rapidfuzz.process.extract` (C++ loops, one call per question),
so ~1000 questions take well under a second; the guard runs only on candidates.

Groups never hold two questions of one source unless their prompts are near-identical
(a document asks a thing twice only by mistake; two wordings in one document are usually
two facets). `overrides.yaml` forces merges and splits; splits win over everything.

The canonical question of a group: `ready` first, then the richest answer (most characters
of answer, explanation and notes: the best reveal), then the earliest source (file name,
line), then the id. Everything is deterministic: same bank, same groups.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from content.model import Question

THRESHOLD = 70.0
TERM_MATCH = 88.0
NEAR_IDENTICAL = 95.0
CANDIDATE_CUTOFF = 60.0

_LEAD_INS = [
    r"(can|could|would) you (please )?(briefly )?(explain|describe|define|tell me about|discuss)",
    r"what do you (mean|understand) by",
    r"what is meant by",
    r"(explain|describe|define|discuss|compare|contrast)",
    r"how (do|would|can|could|should|will) (you|we|one|i|teams)",
    r"how (does|do|is|are|can|could)",
    r"(what|which|why|when|where) (is|are|was|does|do|would|should|can)( an?| the| some)?",
    r"(what|which|why|when)",
    r"(the |a )?(basic |key |main |core )?(concept|idea|notion|meaning|definition) of",
    r"(the )?(key |main )?(role|purpose|importance|significance) of",
    r"(an?|the|some|any)",
]
_LEAD_RE = [re.compile(rf"^{p}\b\s*") for p in _LEAD_INS]
_CONTEXT = (
    r"(mlops|ml|machine learning|ai|an? ml|an mlops|the ml|the mlops)"
    r"( models?| pipelines?| experiments?| systems?| projects?| workflows?| lifecycle"
    r"| practices| setups?| environments?| context)?"
)
_TRAIL_RE = [
    re.compile(rf"\s+(in|for|within|of|to|with|across|using) (the context of )?{_CONTEXT}$"),
    re.compile(r"\s+in (production|practice)$"),
    re.compile(r"\s+(work|works|help|helps|matter|matters|exist|used)$"),
]
_CLAUSE_SPLIT = re.compile(r"[?!;,.:]\s|[?!;]$|\s+and (?:how|why|what|when|which|where)\b|\s+-\s")

_SCENE_RE = re.compile(r"^(in|for|given|if|when|during|after|suppose|imagine|assume|as)\b")
# Words that say how a question is asked, not what it asks about.
_STOP_TEXT = """a an the and or of in on for to with by from as at into about over vs versus is are be
    been being was were do does did can could would should will you your we our it its they
    their them this that these those what which why when where who how some any there here
    one ones other others such than then so if not no yes more most very much many also just
    concept idea term meaning handle handling deal ensure ensuring manage managing achieve
    implement implementing use using used work works help helps play role purpose importance
    important necessary necessity key main common typical different various type types
    biggest major top primary typically kind kinds exist existing way ways approach
    approaches example examples explain describe validate verify guarantee maintain define
    difference differences differ compare mean between briefly please tell
"""
STOPWORDS = frozenset(_STOP_TEXT.split())
# Domain context words: the setting of nearly every question, never what tells two apart.
GENERIC = frozenset({"mlops", "ml", "machine", "learning", "production", "practice", "practices"})
# Qualifiers that narrow nothing in this domain: questions are about models anyway.
WEAK = frozenset({"model", "models", "deployed", "trained"})


_SUFFIXES = ("ization", "ations", "ation", "ments", "ment", "ings", "ing", "ies", "ed", "es", "s")


def _stem(word: str) -> str:
    """Crude suffix stripping: "versioning"/"version", "deployment"/"deploying" meet."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\([^)]*\)", " ", text)  # "DVC (Data Version Control)" asks about DVC
    text = re.sub(r"\b([a-z])/([a-z])\b", r"\1\2", text)  # A/B -> ab, so "a" is no stopword
    text = re.sub(r"\bci\s*/\s*cd\b", "cicd", text)
    text = re.sub(r"(\w)-(\w)", r"\1 \2", text)
    return text


def _words(text: str) -> str:
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _strip(phrase: str) -> str:
    changed = True
    while changed and phrase:
        changed = False
        for rx in _LEAD_RE:
            new = rx.sub("", phrase, count=1)
            if new != phrase and new:
                phrase, changed = new, True
        for rx in _TRAIL_RE:
            new = rx.sub("", phrase)
            if new != phrase and new:
                phrase, changed = new, True
    return phrase


def key_phrase(prompt: str) -> str:
    """The prompt's first clause without lead-in and trailing context: what it asks about."""
    folded = _fold(prompt)
    clauses = [c for c in _CLAUSE_SPLIT.split(folded) if c and c.strip()]
    # "In an ML CI/CD pipeline, which ..." : a scene-setting first clause is not the subject.
    while len(clauses) > 1 and _SCENE_RE.match(clauses[0].strip()):
        clauses.pop(0)
    first = clauses[0] if clauses else folded
    return _strip(_words(first)) or _words(folded)


def key_terms(prompt: str) -> frozenset[str]:
    """Content words of the key phrase, lightly stemmed, weak qualifiers dropped."""
    words = key_phrase(prompt).split()
    terms = {_stem(w) for w in words if w not in STOPWORDS and w not in GENERIC and w not in WEAK}
    return frozenset(terms)


def normalized(prompt: str) -> str:
    """The whole prompt, folded, for the fuzzy score."""
    words = _words(_fold(prompt)).split()
    return " ".join(_stem(w) for w in words if w not in STOPWORDS and w not in GENERIC)


def keys_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Same subject (weak qualifiers are already gone: "model reproducibility" is
    "reproducibility"): every term on each side has a fuzzy counterpart on the other, so a
    word present on one side only ("data" drift, "regulatory" challenges) keeps them apart."""
    if not a or not b:
        return False

    def covered(xs: frozenset[str], ys: frozenset[str]) -> bool:
        return all(any(fuzz.ratio(x, y) >= TERM_MATCH for y in ys) for x in xs)

    return covered(a, b) and covered(b, a)


def similarity(a: str, b: str) -> float:
    return float(fuzz.token_set_ratio(normalized(a), normalized(b)))


@dataclass(frozen=True)
class Features:
    """What the pairwise rule reads from one prompt, computed once per question."""

    folded: str
    terms: frozenset[str]
    norm: str

    @staticmethod
    def of(prompt: str) -> Features:
        folded = _words(_fold(prompt))
        # "What is MLOps?" is all stop and context words: compare it by its folded text.
        return Features(folded, key_terms(prompt), normalized(prompt) or folded)


def _same(a: Features, b: Features) -> bool:
    if a.folded == b.folded:
        return True
    if not keys_agree(a.terms, b.terms):
        return False
    return fuzz.token_set_ratio(a.norm, b.norm) >= THRESHOLD


def same_question(a: str, b: str) -> bool:
    """The pairwise rule (tests calibrate it on labelled pairs from the seeds)."""
    return _same(Features.of(a), Features.of(b))


# --------------------------------------------------------------------------- overrides


@dataclass(frozen=True)
class Overrides:
    """A reviewer's corrections: pairs to force together and pairs to keep apart."""

    merge: tuple[tuple[str, ...], ...] = ()
    split: tuple[tuple[str, ...], ...] = ()


class OverridesError(ValueError):
    """overrides.yaml is malformed; the message names the file and what is wrong."""


def load_overrides(path: Path) -> Overrides:
    """Read `merge: [[id, id], ...]` and `split: [[id, id], ...]`; a missing file is empty."""
    if not path.is_file():
        return Overrides()
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise OverridesError(f"{path}:{line}: YAML syntax error: {exc.problem}") from exc
    if data is None:
        return Overrides()
    if not isinstance(data, dict) or set(data) - {"merge", "split"}:
        raise OverridesError(f"{path}:1: expected only the keys 'merge' and 'split'")
    lists: dict[str, tuple[tuple[str, ...], ...]] = {}
    for key in ("merge", "split"):
        raw = data.get(key) or []
        ok = isinstance(raw, list) and all(
            isinstance(g, list) and len(g) >= 2 and all(isinstance(i, str) for i in g)
            for g in raw
        )
        if not ok:
            raise OverridesError(f"{path}:1: {key} must be a list of lists of two or more ids")
        lists[key] = tuple(tuple(g) for g in raw)
    return Overrides(merge=lists["merge"], split=lists["split"])


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class Group:
    canonical: str
    members: tuple[str, ...]  # canonical first, then alternates in rank order


@dataclass(frozen=True)
class Groups:
    """A partition of the bank's ids; singletons included, so every id has a canonical."""

    groups: tuple[Group, ...]
    _canonical: dict[str, str] = field(default_factory=dict, repr=False)
    _members: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @staticmethod
    def of(groups: list[Group]) -> Groups:
        canonical = {m: g.canonical for g in groups for m in g.members}
        members = {g.canonical: g.members for g in groups}
        return Groups(groups=tuple(groups), _canonical=canonical, _members=members)

    def canonical_of(self, qid: str) -> str:
        return self._canonical[qid]

    def members(self, canonical: str) -> list[str]:
        return list(self._members[canonical])

    def duplicates(self) -> list[Group]:
        """Groups with alternates (what `qotd bank duplicates` lists)."""
        return [g for g in self.groups if len(g.members) > 1]

    def __iter__(self) -> Iterator[Group]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)


def _rank(q: Question) -> tuple[int, int, str, int, str]:
    richness = len(q.answer) + len(q.explanation) + sum(len(n.text) for n in q.notes)
    name = q.source.file.rsplit("/", 1)[-1]
    return (0 if q.status == "ready" else 1, -richness, name, q.source.line, q.id)


def _source_of(q: Question) -> str:
    return q.source.file.rsplit("/", 1)[-1]


def _candidates(norms: Sequence[str]) -> list[tuple[float, int, int]]:
    pairs: list[tuple[float, int, int]] = []
    for i, query in enumerate(norms[:-1]):
        rest = norms[i + 1 :]
        for _, score, offset in process.extract(
            query, rest, scorer=fuzz.token_set_ratio, score_cutoff=CANDIDATE_CUTOFF, limit=None
        ):
            pairs.append((float(score), i, i + 1 + offset))
    return pairs


class _Partition:
    """Union-find whose unions can be refused (same source, reviewer's split)."""

    def __init__(self, questions: Sequence[Question], split: Iterable[tuple[str, ...]]) -> None:
        self.parent = list(range(len(questions)))
        self.members: dict[int, set[int]] = {i: {i} for i in range(len(questions))}
        index = {q.id: i for i, q in enumerate(questions)}
        self.apart: set[frozenset[int]] = set()
        for ids in split:
            known = [index[i] for i in ids if i in index]
            for x in known:
                for y in known:
                    if x != y:
                        self.apart.add(frozenset((x, y)))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, allowed: Any) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        for x in self.members[ra]:
            for y in self.members[rb]:
                if frozenset((x, y)) in self.apart or not allowed(x, y):
                    return False
        small, large = sorted((ra, rb))
        self.parent[large] = small
        self.members[small] |= self.members.pop(large)
        return True


def group(questions: Sequence[Question], overrides: Overrides | None = None) -> Groups:
    """Partition `questions` (the bank) into near-duplicate groups."""
    overrides = overrides or Overrides()
    qs = sorted(questions, key=lambda q: q.id)
    index = {q.id: i for i, q in enumerate(qs)}
    part = _Partition(qs, overrides.split)
    feats = [Features.of(q.prompt) for q in qs]
    folded = [f.folded for f in feats]

    def any_pair(x: int, y: int) -> bool:
        return True

    matches = {
        (i, j): score
        for score, i, j in _candidates([f.norm for f in feats])
        if _same(feats[i], feats[j])
    }

    def fuzzy_pair(x: int, y: int) -> bool:
        # Complete linkage: every pair in a group must match, so no chains A~B~C with A!~C.
        if (min(x, y), max(x, y)) not in matches:
            return False
        if _source_of(qs[x]) != _source_of(qs[y]):
            return True
        return fuzz.ratio(folded[x], folded[y]) >= NEAR_IDENTICAL

    for ids in overrides.merge:
        known = [index[i] for i in ids if i in index]
        for other in known[1:]:
            part.union(known[0], other, any_pair)
    for i, j in sorted(matches, key=lambda m: (-matches[m], qs[m[0]].id, qs[m[1]].id)):
        part.union(i, j, fuzzy_pair)
    out: list[Group] = []
    for root in sorted(part.members, key=lambda r: min(qs[m].id for m in part.members[r])):
        ranked = sorted((qs[m] for m in part.members[root]), key=_rank)
        out.append(Group(canonical=ranked[0].id, members=tuple(q.id for q in ranked)))
    out.sort(key=lambda g: _rank(qs[index[g.canonical]]))
    return Groups.of(out)
