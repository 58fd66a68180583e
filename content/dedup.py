"""Near-duplicate questions across sources ("what is model drift", worded five ways).

Two prompts are the same question when
1. their *key phrases* agree: the first clause, with the lead-in ("Can you explain the
   concept of", "What are some best practices for", "What would you do if you detected")
   and the trailing context ("in MLOps", "for ML models in production", "in model
   serving") removed, reduced to its content words. Words are folded onto one spelling
   first: abbreviations and their expansions (CI/CD = continuous integration and
   deployment), synonyms of this domain (real-time = online, inference = prediction,
   interpretability = explainability, canary testing = canary deployment), then crudely
   stemmed; weak qualifiers ("model", "performance", "pipeline") are dropped, so "model
   reproducibility" ~ "reproducibility". Every term on each side needs a fuzzy counterpart
   (`TERM_MATCH`) on the other, so a word on one side only ("data" drift vs "model" drift,
   "regulatory" challenges, "canary" vs "blue green", "strategies to *detect* drift")
   keeps them apart: the distinguishing words are exactly what a fuzzy score over the whole
   prompt would average away. One exception, once per pair: an addition that does not
   change the question, a soft qualifier ("how do you *automate* retraining", "packaging
   with ONNX") or a word joined by "and"/"or" to a word that does match ("missing *or
   inconsistent* data", "retraining *and deployment*"); the items of a comparison
   ("difference between batch and online") are never an addition. A 100-score match
   (one prompt's words all in the other's) is not enough on its own: "what is model
   drift" is all in "what strategies can be used to detect model drift"; and
2. rapidfuzz's `token_set_ratio` of the key phrases and the clauses after them reaches
   `THRESHOLD` (a follow-up question on one side only does not lower it; two different
   follow-ups do).
Identical key phrases agree even when they hold only context words ("What do you mean by
MLOps?" = "What is MLOps?"). Identical prompts (after folding case and punctuation) always
match, except one stem with other options, other code or another image: those are two
questions ("Which of the following is true?", "What does this snippet print?"), and no
rule above joins them either.

Candidate pairs come from `rapidfuzz.process.extract` (C++ loops, one call per question),
so ~1000 questions take well under a second; the pairwise rule runs only on candidates.

A match joins two groups only if every two members of the joined group are at least
*compatible*: no term tells them apart, though they may differ by more additions than a
match allows ("handle retraining" and "automate retraining and deployment" both match
"automate the retraining": one group). So a chain A~B~C never joins A to a C that differs
from it ("missing data" ~ "missing or inconsistent data" ~ "inconsistent data"), and one
subject is one group across all sources. A document that asks one thing twice (a generated
list often does) gets both wordings in that group; two facets of a subject in one document
differ in a key term and stay apart. `overrides.yaml` forces merges and splits; splits win
over everything.

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
CANDIDATE_CUTOFF = 60.0

# Spellings of one thing, folded to one before anything is matched (on folded text, so
# "ci/cd", "CI / CD" and "continuous integration and continuous delivery" all meet).
_PHRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"\bci\s*/\s*cd\b", "cicd"),
        (r"\bcontinuous integration\s*(?:and|&|/)\s*(?:continuous\s+)?(?:deployment|delivery)\b",
         "cicd"),
        (r"\bcicd pipelines?\b", "cicd"),
        (r"\breal\s*-?\s*time\b", "online"),
        (r"\btraditional (?:devops|software(?: development| engineering)?)\b", "software"),
        (r"\bcanary (?:testing|tests?|releases?|rollouts?)\b", "canary deployment"),
        (r"\blong\s*-?\s*running\b", "long"),
        (r"\bset(?:ting)?\s*-?\s*up\b", "configure"),
        (r"\bblack\s*-?\s*box\b", "blackbox"),
        (r"\b([a-z])/([a-z])\b", r"\1\2"),  # A/B -> ab, so "a" is no stopword
    ]
]
# One word per meaning, applied to single words before stemming.
_SYNONYMS = {
    "inference": "prediction", "inferences": "prediction", "predictions": "prediction",
    "predicting": "prediction", "scoring": "prediction",
    "interpretability": "explainability", "interpretable": "explainable",
    "scalability": "scaling", "scalable": "scaling", "scale": "scaling",
    "docker": "container", "containerisation": "containerization",
    "automatically": "automate", "automatic": "automate", "automated": "automate",
    "stages": "component", "stage": "component", "phases": "component",
    "issues": "challenges", "problems": "challenges", "difficulties": "challenges",
    "components": "component",
    "secure": "security", "securing": "security", "secured": "security",
}
_LEAD_INS = [
    r"(can|could|would) you (please )?(briefly )?(explain|describe|define|tell me( about)?|discuss"
    r"|elaborate( on)?|walk me through|list|name|mention)",
    r"what do you (mean|understand) by",
    r"what is meant by",
    r"(explain|describe|define|discuss|compare|contrast|list|name|mention|elaborate( on)?)",
    r"what would you do (if|when)( you)?( (have )?(detected|detect|notice|noticed|find|found"
    r"|observe|observed|see|saw|suspect))?",
    r"how (would|do|should|will) (you|we|one|teams) (handle|approach|deal with|respond to)"
    r" (a|the) (situation|scenario|case) (where|in which|when)",
    r"(what|which) (steps|actions|measures) (would|should|do|can|will) (you|we|one|teams) take to",
    r"how (do|would|can|could|should|will) (you|we|one|i|teams)",
    r"how (does|do|is|are|can|could)",
    r"(what|which) of the following( statements| options| choices)?( is| are| best| would)?",
    r"(what|which|why|when|where) (is|are|was|does|do|would|should|can|makes|make)"
    r"( an?| the| some)?",
    r"(what|which|why|when)",
    r"(the |a )?(basic |key |main |core )?(concept|idea|notion|meaning|definition) of",
    r"(the )?(key |main )?(role|purpose|importance|significance|benefits?|advantages?)"
    r" of( using)?",
    r"(some )?(the )?(common |best |key |main |popular |recommended |effective )?"
    r"(methods|ways|techniques|strategies|approaches|best practices|practices|tips|steps)"
    r"( that)?( can| could| should| would| you)?( be)?( used| take| use)?( for| to| of| in)",
    r"(an?|the|some|any)",
]
_LEAD_RE = [re.compile(rf"^{p}\b\s*") for p in _LEAD_INS]
_CONTEXT = (
    r"(mlops|ml|machine learning|ai|an? ml|an mlops|the ml|the mlops)"
    r"( models?| pipelines?| experiments?| systems?| projects?| workflows?| lifecycle"
    r"| practices| setups?| environments?| context| applications?)?"
)
_TRAIL_RE = [
    re.compile(rf"\s+(in|for|within|of|to|with|across|using) (the context of )?{_CONTEXT}$"),
    re.compile(r"\s+(in|to|into|for|during|after|post|on) (an? |the )?(production|deployment)"
               r"( models?| systems?| environments?)?$"),
    re.compile(r"\s+in (practice)$"),
    re.compile(r"\s+(in|for|during) (an? )?(online )?(ml )?(model )?(serving|prediction)$"),
    re.compile(r"\s+(work|works|help|helps|matter|matters|exist|used)$"),
]
_SENTENCE_SPLIT = re.compile(r"[?!;.:]\s|[?!;]$|\s+-\s")
_CLAUSE_SPLIT = re.compile(r",\s|\s+and (?:how|why|what|when|which|where)\b")

_SCENE_RE = re.compile(r"^(in|for|given|if|when|during|after|suppose|imagine|assume|as)\b")
# A phrase that compares its items: none of them is an optional addition.
_COMPARISON_RE = re.compile(r"\b(between|vs|versus|compare|compared|comparing|contrast|differ"
                            r"|differs|difference|differences|distinguish|distinguishes"
                            r"|separates|vary|varies)\b")
_COORDINATORS = frozenset({"and", "or"})
# What a prompt shows besides its words: a fenced code block, an image.
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1", re.M | re.S)
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
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
    difference differences differ compare compared mean between briefly please tell
    have has need needs needed required require faced face make makes made take
    mitigate mitigating avoid avoiding prevent preventing reduce reducing address tackle
    overcome efficiently effectively properly correctly well best good low context
    create creating build building design designing involved involve distinguish
    distinguishes separate separates vary varies
    during start starts starting begin begins situation configure configuring setup
"""
STOPWORDS = frozenset(_STOP_TEXT.split())
# Domain context words: the setting of nearly every question, never what tells two apart.
GENERIC = frozenset({"mlops", "ml", "machine", "learning", "production", "practice", "practices",
                     "project", "projects", "system", "systems"})
# Qualifiers that narrow nothing in this domain: questions are about models (and their
# pipelines, performance and training jobs) anyway.
WEAK = frozenset({"model", "models", "deployed", "trained", "performance", "pipeline",
                  "pipelines", "time", "times", "job", "jobs"})

_SUFFIXES = (
    "izations", "ization", "isations", "isation", "ations", "ation", "izing", "ized", "izes",
    "ize", "ating", "ated", "ates", "ate", "ments", "ment", "ings", "ing", "ies", "ied", "ed",
    "es", "s",
)


def _stem(word: str) -> str:
    """Crude suffix stripping, so "versioning"/"version", "deployment"/"deploying",
    "challenges"/"challenging" and "pipelines"/"pipeline" meet (no stemmer library is a
    dependency, and the domain's vocabulary is small)."""
    if len(word) <= 4:
        return word
    base = word
    for suffix in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 4:
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            continue
        if suffix == "es" and not word[:-2].endswith(("s", "x", "z", "ch", "sh")):
            continue  # "stages" is "stage" + "s", not "stag" + "es"
        base = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
        break
    if len(base) > 4 and base.endswith("e"):
        base = base[:-1]  # "stage"/"staging", "challenge"/"challenging"
    return base


# Qualifiers that may be missing on one side (once per pair, see `keys_agree`): automating,
# packaging or alerting on degradation of a thing is still asking about the thing, but a
# question only about automation is not one about any automated thing. Stemmed.
SOFT = frozenset(_stem(w) for w in ("automate", "automation", "packaging", "degradation"))


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\([^)]*\)", " ", text)  # "DVC (Data Version Control)" asks about DVC
    text = re.sub(r"(\w)-(\w)", r"\1 \2", text)
    text = re.sub(r"[ \t]+", " ", text)
    for rx, replacement in _PHRASES:
        text = rx.sub(replacement, text)
    return text


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _words(text: str) -> str:
    return " ".join(_SYNONYMS.get(w, w) for w in _plain(text).split())


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


@dataclass(frozen=True)
class _Parts:
    """A prompt cut where the key-phrase rules need it."""

    folded: str  # the whole prompt, folded
    subject: str  # the key phrase
    comparison: bool  # the first clause compares its items ("Compare A, B and C")
    rest: tuple[str, ...]  # the other clauses, folded


def _parts(prompt: str) -> _Parts:
    """The subject is the first clause of the first sentence that is not scene-setting
    ("In an ML CI/CD pipeline, ...") or a bare lead-in ("Can you explain, ...")."""
    folded = _fold(prompt)
    sentences = [c for c in _SENTENCE_SPLIT.split(folded) if c and c.strip()]
    while len(sentences) > 1 and _SCENE_RE.match(sentences[0].strip()):
        sentences.pop(0)
    first = sentences[0] if sentences else folded
    comparison = bool(_COMPARISON_RE.search(first))
    # A comparison's commas separate its items ("Compare Feast, Tecton, and Databricks").
    clauses = [first] if comparison else [c for c in _CLAUSE_SPLIT.split(first) if c.strip()]
    while len(clauses) > 1 and (
        _SCENE_RE.match(clauses[0].strip()) or set(_plain(clauses[0]).split()) <= STOPWORDS
    ):
        clauses.pop(0)
    head = clauses[0] if clauses else first
    rest = tuple(clauses[1:]) + tuple(sentences[1:])
    return _Parts(folded, _strip(_words(head)) or _words(folded), comparison, rest)


def key_phrase(prompt: str) -> str:
    """The prompt's first clause without lead-in and trailing context: what it asks about."""
    return _parts(prompt).subject


def _is_term(word: str) -> bool:
    return word not in STOPWORDS and word not in GENERIC and word not in WEAK


def _terms_of(phrase: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in phrase.split() if _is_term(w))


def key_terms(prompt: str) -> frozenset[str]:
    """Content words of the key phrase, lightly stemmed, weak qualifiers dropped."""
    return _terms_of(key_phrase(prompt))


def _coordinated(parts: _Parts) -> frozenset[tuple[str, str]]:
    """Pairs of terms joined by "and"/"or" ("missing or inconsistent data" gives
    (missing, inconsistent)): the nearest term on each side of the conjunction. A clause
    that compares ("difference between batch and online") has none: its items are the
    question."""
    if parts.comparison:
        return frozenset()
    words = parts.subject.split()
    pairs: set[tuple[str, str]] = set()
    for i, word in enumerate(words):
        if word not in _COORDINATORS:
            continue
        left = next((w for w in reversed(words[:i]) if _is_term(w)), None)
        right = next((w for w in words[i + 1 :] if _is_term(w)), None)
        if left and right:
            pairs.add((_stem(left), _stem(right)))
    return frozenset(pairs)


def _normalized(parts: _Parts) -> str:
    words = " ".join((parts.subject, *(_words(c) for c in parts.rest))).split()
    stems = [_stem(w) for w in words if _is_term(w)]
    # Qualifiers do not count, unless they are all there is ("ways of packaging models").
    return " ".join([s for s in stems if s not in SOFT] or stems)


def normalized(prompt: str) -> str:
    """The prompt for the fuzzy score: the key phrase and the clauses after it (the
    follow-up questions), without the first clause's lead-in and trailing context, which
    say where and how it is asked ("in model serving", "in real-time predictions")."""
    return _normalized(_parts(prompt))


def _term_matches(x: str, ys: Iterable[str]) -> bool:
    return any(x == y or fuzz.ratio(x, y) >= TERM_MATCH for y in ys)


def _unmatched(
    a: frozenset[str],
    b: frozenset[str],
    a_pairs: frozenset[tuple[str, str]],
    b_pairs: frozenset[tuple[str, str]],
) -> int | None:
    """How many terms of the pair lack a counterpart on the other side, when each of them is
    an addition that does not change the question: a soft qualifier (`SOFT`) or a term
    coordinated (`*_pairs`) with one that has a counterpart. None when a term tells the two
    apart, or when nothing but soft qualifiers is shared."""
    if not a or not b:
        return None
    excused = 0
    for xs, pairs, ys in ((a, a_pairs, b), (b, b_pairs, a)):
        matched = {x for x in xs if _term_matches(x, ys)}
        if not matched - SOFT and matched != xs:
            return None  # only a qualifier in common ("automate X" vs "automate Y")
        for x in xs - matched:
            partners = {r for q, r in pairs if q == x} | {q for q, r in pairs if r == x}
            if x not in SOFT and not partners & matched:
                return None
            excused += 1
    return excused


def keys_agree(
    a: frozenset[str],
    b: frozenset[str],
    a_pairs: frozenset[tuple[str, str]] = frozenset(),
    b_pairs: frozenset[tuple[str, str]] = frozenset(),
) -> bool:
    """Same subject (weak qualifiers are already gone: "model reproducibility" is
    "reproducibility"): every term on each side has a fuzzy counterpart on the other, so a
    word present on one side only ("data" drift, "regulatory" challenges) keeps them apart.

    At most one term of the pair may lack a counterpart, and only an addition that does not
    change the question: a soft qualifier ("how do you *automate* retraining") or a term
    coordinated with one that has a counterpart ("missing *or inconsistent* data"). Two such
    differences are a different question: "what are the ways to deploy models" is not "how
    do you automate retraining and deployment"."""
    excused = _unmatched(a, b, a_pairs, b_pairs)
    return excused is not None and excused <= 1


def similarity(a: str, b: str) -> float:
    return float(fuzz.token_set_ratio(normalized(a), normalized(b)))


@dataclass(frozen=True)
class Features:
    """What the pairwise rule reads from one question, computed once per question."""

    folded: str
    subject: str
    terms: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    norm: str
    options: frozenset[str] = frozenset()
    shown: frozenset[str] = frozenset()

    @staticmethod
    def of(prompt: str, choices: Iterable[str] = ()) -> Features:
        parts = _parts(prompt)
        folded = _plain(parts.folded)
        return Features(
            folded=folded,
            subject=parts.subject,
            terms=_terms_of(parts.subject),
            pairs=_coordinated(parts),
            # "What is MLOps?" is all stop and context words: score it by its key phrase.
            norm=_normalized(parts) or parts.subject,
            options=frozenset(_plain(_fold(c)) for c in choices),
            shown=_shown(prompt),
        )


def _shown(prompt: str) -> frozenset[str]:
    """The code blocks (whitespace folded) and image targets of a prompt."""
    code = (" ".join(m.group(2).split()) for m in _FENCE_RE.finditer(prompt))
    return frozenset((*code, *_IMAGE_RE.findall(prompt)))


def _apart(a: Features, b: Features) -> bool:
    """One stem with other options, other code or another image: two questions ("Which of
    the following is true?", "What does this snippet print?"), however alike the words."""
    return bool(a.options and b.options and a.options != b.options) or bool(
        a.shown and b.shown and a.shown != b.shown
    )


def _same(a: Features, b: Features) -> bool:
    if _apart(a, b):
        return False
    if a.folded == b.folded:
        return True
    # "What do you mean by MLOps?" = "What is MLOps?": one key phrase, no content terms.
    if a.subject != b.subject and not keys_agree(a.terms, b.terms, a.pairs, b.pairs):
        return False
    return fuzz.token_set_ratio(a.norm, b.norm) >= THRESHOLD


def _compatible(a: Features, b: Features) -> bool:
    """Nothing tells the two apart: the same question, or one that only adds to it (more
    than the one addition `_same` allows). Two members of a group must be at least this."""
    if _apart(a, b):
        return False
    if a.folded == b.folded or a.subject == b.subject:
        return True
    return _unmatched(a.terms, b.terms, a.pairs, b.pairs) is not None


def same_question(a: str, b: str) -> bool:
    """The pairwise rule on two prompts (tests calibrate it on labelled pairs from the seeds)."""
    return _same(Features.of(a), Features.of(b))


def may_share_group(a: str, b: str) -> bool:
    """Whether nothing in the two prompts tells them apart: what every two members of a
    group must satisfy, whichever members joined them (tests check the bank's groups)."""
    return _compatible(Features.of(a), Features.of(b))


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
    """Union-find whose unions can be refused (a pair that does not match, a reviewer's split)."""

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
    feats = [Features.of(q.prompt, q.choices) for q in qs]

    def any_pair(x: int, y: int) -> bool:
        return True

    matches = {
        (i, j): score
        for score, i, j in _candidates([f.norm for f in feats])
        if _same(feats[i], feats[j])
    }

    def fuzzy_pair(x: int, y: int) -> bool:
        # Every two members must at least be compatible (a match joins the groups, nothing
        # in them may tell two members apart), so no chain A~B~C joins A to a different C.
        return (min(x, y), max(x, y)) in matches or _compatible(feats[x], feats[y])

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
