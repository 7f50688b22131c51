"""The answer pipeline: extractive mode on the samples, and the LLM chain with fake models."""

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake import FakeStreamingListLLM
from typer.testing import CliRunner

from conftest import RecordingChat
from rag.answer.chain import LLMAnswerer, budget, fit_sources
from rag.answer.converse import Turn
from rag.answer.llm import LLMConfig, make_model
from rag.answer.prompting import load_prompt
from rag.cli import app
from rag.config import PROJECT_ROOT
from rag.pipeline import AskOptions, Pipeline
from rag.text.tokens import count_tokens

SHUIKOU, WAWU = "000_4e493ef760f0cb20.txt", "001_e78c042d1c9dcf59.txt"
PROMPT = load_prompt(PROJECT_ROOT / "prompts", "answer")


def _with_llm(extractive: Pipeline, model: Any, style: str = "chat") -> Pipeline:
    return extractive.with_answerer(LLMAnswerer(model, PROMPT, style, "llm:fake"))  # type: ignore[arg-type]


# --- extractive mode -------------------------------------------------------------------------


def test_numeric_answer_is_cited_and_verified(extractive: Pipeline) -> None:
    a = extractive.ask("水口镇2024年对执法人员进行了多少次执法培训？")
    assert a.mode == "extractive" and not a.abstained
    assert "15次" in a.text and "[1]" in a.text
    c = a.citations[0]
    report = extractive.reports[c.source].text
    assert c.source == SHUIKOU
    assert (
        report[c.start : c.end] == c.text
        and report[c.support_start : c.support_end] == c.support_text
    )
    assert "执法培训15次" in c.support_text
    assert a.claims and all(cl.verdict == "supported" for cl in a.claims)
    assert a.searched == (SHUIKOU,) and a.contexts[0].rank == 1


def test_an_answer_says_whose_it_is_when_the_question_names_no_place(
    extractive: Pipeline,
) -> None:
    """哪里…? answered from one report starts with that report's place and year; a question
    that names the place is not told it again."""
    where = extractive.ask("哪里设立了法官驿站？")
    assert not where.abstained and "法官驿站" in where.text
    assert {c.source for c in where.citations} == {"002_437bbe3c0d589296.txt"}
    assert where.text.startswith("金湖县（2024年）：")
    assert where.claims and all(cl.verdict == "supported" for cl in where.claims)
    named = extractive.ask("金湖县的法官驿站是做什么的？")
    assert not named.abstained and "法官驿站" in named.text
    assert "（2024年）：" not in named.text


def test_abstains_with_the_reports_searched(extractive: Pipeline) -> None:
    a = extractive.ask("水口镇2024年的财政预算是多少？")
    assert a.abstained and not a.citations and not a.claims
    assert a.text.startswith("所检索的报告中没有找到")
    assert SHUIKOU in a.text and "水口镇" in a.text  # which report was searched, and why
    assert a.support < extractive.knobs.abstain_threshold


def test_abstains_when_no_report_covers_the_year(extractive: Pipeline) -> None:
    a = extractive.ask("水口镇2022年开展了多少次执法培训？")
    assert a.abstained and "不涉及2022年" in a.text and "2024" in a.text


def test_explicit_filters_are_reported(extractive: Pipeline) -> None:
    a = extractive.ask("开展了多少场法治宣传活动？", options=AskOptions(reports=(WAWU,)))
    assert a.searched == (WAWU,) and a.filters == (f"报告：{WAWU}",)
    assert "8余场次" in a.text


def test_cross_report_answer_has_one_line_per_report(extractive: Pipeline) -> None:
    a = extractive.ask("水口镇和瓦屋镇分别开展了多少次法治宣传活动？")
    lines = [ln for ln in a.text.splitlines() if ln.startswith("- ")]
    assert len(lines) == 2 and lines[0].startswith("- 水口镇") != lines[1].startswith("- 水口镇")
    assert {c.source for c in a.citations} == {SHUIKOU, WAWU}
    assert "10余次" in a.text and "8余场次" in a.text


def test_which_towns_lists_supported_reports_and_the_rest(extractive: Pipeline) -> None:
    a = extractive.ask("哪些镇设立了调解室？")
    assert "劳资纠纷调解室" in a.text
    assert "未找到相关内容的报告" in a.text and "瓦屋镇" in a.text.splitlines()[-1]
    assert all(c.verdict == "supported" for c in a.claims)  # the 未找到 line is not a claim


def test_follow_up_is_rewritten_and_shown(extractive: Pipeline) -> None:
    first = extractive.ask("水口镇全镇有多少人考取了执法证？")
    a = extractive.ask("那峡口镇呢？", [Turn(first.question, first.rewritten, first.text)])
    assert a.rewritten == "峡口镇全镇有多少人考取了执法证？"
    assert a.question == "那峡口镇呢？" and a.searched == ("004_ec6daf499c9a8590.txt",)


def test_stream_yields_rewrite_contexts_text_then_answer(extractive: Pipeline) -> None:
    events = list(extractive.stream("瓦屋镇2023年开展了多少场法治宣传活动？"))
    assert [e.kind for e in events] == ["rewritten", "contexts", "token", "answer"]
    assert events[-1].answer is not None and events[2].text == events[-1].answer.text


def test_cli_ask_json(lexical_index_dir: Path) -> None:
    env = {"RAG_EMBED_MODEL": "none", "RAG_LLM_BACKEND": "none"}
    result = CliRunner().invoke(
        app,
        [
            "ask",
            "瓦屋镇2023年开展了多少场法治宣传活动？",
            "--json",
            "--index",
            str(lexical_index_dir),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == "extractive" and out["abstained"] is False
    assert out["rewritten"] == out["question"]
    cite = out["citations"][0]
    assert set(cite) >= {"n", "source", "start", "end", "text", "support"}
    assert set(cite["support"]) == {"start", "end", "text"}
    assert out["claims"][0]["verdict"] == "supported"
    assert set(out["contexts"][0]) >= {"rank", "source", "start", "end", "text", "score"}

    result = CliRunner().invoke(
        app, ["ask", "峡口镇有多少名专职律师？", "--index", str(lexical_index_dir)], env=env
    )
    assert result.exit_code == 0 and "所检索的报告中没有找到" in result.output


# --- LLM chain with fake models ---------------------------------------------------------------


def test_llm_answer_is_streamed_parsed_and_checked(extractive: Pipeline) -> None:
    model = RecordingChat(
        reply="水口镇对执法人员共进行执法培训15次[1]。另有法律法规知识测试16次【1】。全镇共有律师8名[9]。",
        seen=[],
    )
    p = _with_llm(extractive, model)
    events = list(p.stream("水口镇2024年对执法人员进行了多少次执法培训？"))
    tokens = [e.text for e in events if e.kind == "token"]
    assert len(tokens) > 5  # streamed in pieces
    a = events[-1].answer
    assert a is not None and a.mode == "llm:fake" and not a.abstained
    assert "[9]" not in a.text and any("[9]" in w for w in a.warnings)
    verdicts = [c.verdict for c in a.claims]
    assert verdicts[0] == "supported"
    assert a.claims[1].unmatched_numbers == ("16次",)  # the source says 6次
    assert verdicts[2] == "uncited"  # its only marker named no source
    system, human = model.seen[0]
    assert "只根据下面编号的资料回答" in str(system.content)
    assert "[1] 《江华瑶族自治县水口镇人民政府关于2024年法治政府建设情况的报告》" in str(
        human.content
    )
    assert "执法培训15次" in str(human.content) and "检索范围" in str(human.content)


def test_llm_saying_the_sources_lack_the_answer_counts_as_abstention(extractive: Pipeline) -> None:
    model = RecordingChat(reply="所检索的报告中没有相关内容。", seen=[])
    a = _with_llm(extractive, model).ask("水口镇对执法人员进行了多少次执法培训？")
    assert a.abstained and SHUIKOU in a.text and not a.claims


def test_low_evidence_abstains_without_calling_the_llm(extractive: Pipeline) -> None:
    model = RecordingChat(reply="编造的答案[1]。", seen=[])
    a = _with_llm(extractive, model).ask("峡口镇的污水处理厂何时建成？")
    assert a.abstained and model.seen == []


def test_completion_style_for_base_models(extractive: Pipeline) -> None:
    llm = FakeStreamingListLLM(responses=["对执法人员共进行执法培训15次[1]。"])
    a = _with_llm(extractive, llm, "completion").ask("水口镇对执法人员进行了多少次执法培训？")
    assert a.citations and a.citations[0].source == SHUIKOU and a.claims[0].verdict == "supported"


def test_unreachable_llm_falls_back_to_extractive(extractive: Pipeline) -> None:
    cfg = LLMConfig("openai", "nobody", "chat", base_url="http://127.0.0.1:9/v1", timeout=3)
    p = _with_llm(extractive, make_model(cfg))
    a = p.ask("水口镇对执法人员进行了多少次执法培训？")
    assert a.mode == "extractive" and "15次" in a.text
    assert any("大模型连不上" in w and "改为摘录式回答" in w for w in a.warnings)


def test_sources_fit_the_token_budget(extractive: Pipeline) -> None:
    hits = extractive.search("执法培训", extractive.options(k=6))
    text, used = fit_sources(hits, extractive.reports, 400)
    assert 0 < len(used) < len(hits) and count_tokens(text) <= 400
    assert text.startswith("[1] 《") and f"[{len(used) + 1}]" not in text
    assert budget(2048, 512, 300) == int((2048 - 512 - 300) * 0.9)


def test_llm_config_errors_name_the_setting(tmp_path: Path) -> None:
    from rag.config import Settings
    from rag.errors import ConfigError
    from rag.factory import llm_config as config_from

    with pytest.raises(ConfigError, match="RAG_LLM_BASE_URL"):
        config_from(Settings(llm_backend="openai"))
    with pytest.raises(ConfigError, match="RAG_LLM_GGUF_PATH"):
        config_from(Settings(llm_backend="llamacpp", llm_gguf_path=tmp_path / "none.gguf"))
    assert config_from(Settings(llm_backend="none")) is None


def test_api_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.config import Settings

    monkeypatch.setenv("RAG_LLM_API_KEY", "sk-secret-123")
    s = Settings()
    assert "sk-secret-123" not in repr(s) and "sk-secret-123" not in str(s.model_dump())


def test_a_context_window_too_small_for_any_source_is_an_error(extractive: Pipeline) -> None:
    from rag.errors import ConfigError

    answerer = LLMAnswerer(RecordingChat(reply="x", seen=[]), PROMPT, "chat", "llm:fake", 600, 500)
    p = extractive.with_answerer(answerer)
    with pytest.raises(ConfigError, match="RAG_LLM_CONTEXT_TOKENS=600"):
        p.ask("水口镇对执法人员进行了多少次执法培训？")


@pytest.mark.parametrize(
    ("question", "value", "line"),
    [
        ("水口镇的报告落款日期是哪天？", "2025-03-24", "2025年3月24日"),
        ("金湖县的报告是哪天公开的？", "2025-03-07", "公开日期 | 2025-03-07"),
        ("峡口镇属于哪个区？", "重庆市南岸区峡口镇", "重庆市南岸区峡口镇人民政府"),
        ("瓦屋镇的报告是哪个单位报送的？", "鲁山县瓦屋镇人民政府", "鲁山县瓦屋镇人民政府关于"),
        ("峡口镇这份报告说的是哪一年的事？", "2024年", "关于2024年法治政府建设情况的报告"),
    ],
)
def test_questions_about_the_report_itself(
    extractive: Pipeline, question: str, value: str, line: str
) -> None:
    a = extractive.ask(question)
    assert not a.abstained and a.mode == "extractive (metadata)"
    assert value in a.text and line in a.citations[0].text
    c = a.citations[0]
    assert extractive.reports[c.source].text[c.start : c.end] == c.text
    assert [cl.verdict for cl in a.claims] == ["supported"]


def test_metadata_the_report_lacks_is_an_abstention(extractive: Pipeline) -> None:
    a = extractive.ask("瓦屋镇的报告是哪天发布的？")  # the file carries no date
    assert a.abstained and "报告未载明发布日期" in a.text


def test_when_did_something_happen_is_not_a_metadata_question(extractive: Pipeline) -> None:
    a = extractive.ask("瓦屋镇什么时候开展了法治宣传？")
    assert a.mode == "extractive"


def test_a_long_search_scope_is_counted_not_listed(extractive: Pipeline) -> None:
    from rag.answer.compose import LISTED, scope_text

    source = next(iter(extractive.reports))
    text = scope_text([source] * (LISTED + 5), extractive.reports)
    assert text.count(source) == LISTED and text.endswith("另有 5 份")


def test_question_words_and_relative_time_are_not_terms(extractive: Pipeline) -> None:
    terms = extractive.analyze("瓦屋镇去年给干部搞了几回培训？").terms.weights
    assert not {"去年", "给", "搞", "几回"} & set(terms)
    assert "培训" in terms


def test_a_thesaurus_synonym_earns_credit() -> None:
    from rag.retrieve.support import SYNONYM_CREDIT, support
    from rag.retrieve.terms import QuestionTerms, thesaurus

    assert "调解" in thesaurus("调处")
    terms = QuestionTerms({"调处": 1.0}, False)
    assert support(terms, "全年调解纠纷42宗") == SYNONYM_CREDIT
    assert support(terms, "全年开展普法10次") == 0.0


def test_semantic_support_maps_the_anchors() -> None:
    from rag.retrieve.support import semantic_support

    anchors = (0.87, 0.97)
    assert semantic_support(0.87, anchors) == 0.0
    assert semantic_support(0.92, anchors) == pytest.approx(0.5)
    assert semantic_support(0.99, anchors) == 1.0


def test_a_figure_question_is_answered_first_in_one_short_sentence(extractive: Pipeline) -> None:
    a = extractive.ask("峡口镇有多少人通过考试入驻数字执法系统？")
    first = a.text.splitlines()[0]
    assert first == "峡口镇（2024年）：已有27人通过考试入驻“数字执法”系统[1]。", a.text
    assert a.claims[0].verdict == "supported"  # built from the cited sentence's own words
    assert "依托线上培训" in a.text  # then the supporting excerpt
    lst = extractive.ask("水口镇设立了哪些调解室？")
    assert lst.text.startswith(
        "水口镇（2024年）：设立人民调解工作室、劳资纠纷调解室和“政法五老”调解室["
    )
    # a question that asks no figure, list or yes/no gets no lead
    assert not extractive.ask("水口镇怎样优化法治化营商环境？").text.startswith("水口镇（")


def test_a_label_of_another_report_is_wording_to_check() -> None:
    from rag.types import Citation, Places, Report, ReportMeta
    from rag.verify.answers import check_claim

    span = (
        "依托线上培训组织40岁以下在编人员参加法律基础知识学习，已有27人通过考试入驻“数字执法”系统"
    )
    src = "004_ec6daf499c9a8590.txt"
    cite = Citation(1, 0, src, "t", "", 0, len(span), span, 0, len(span), span)
    meta = ReportMeta("t", True, None, Places(town="峡口镇"), 2024, None, None, None)
    reports = {src: Report(src, span, meta, "utf-8")}
    own = check_claim("峡口镇（2024年）：已有27人通过[1]", [1], [cite], reports)
    assert own.verdict == "supported"
    other = check_claim("水口镇（2024年）：已有27人通过[1]", [1], [cite], reports)
    assert other.overlap < own.overlap


def test_numbered_titles_are_not_claims_but_items_are() -> None:
    from rag.answer.extractive import _is_title

    section = ("一、2024年推进法治政府建设的主要举措和成效", "（三）强化规范执法，确保执法公正文明")
    assert _is_title("（三）强化规范执法，确保执法公正文明", section)
    assert not _is_title(
        "二是开展法治宣传的形式较为单一。", ("三、存在的不足", "二是开展法治宣传的形式较为单一")
    )


def test_asking_words_of_spoken_questions_are_not_terms(extractive: Pipeline) -> None:
    """有多高, 花了多少钱, 那年, 搞些 ask; they are not what the answer must contain."""
    cases = {
        "瓦屋镇老百姓受法治教育的比例有多高？": {"多", "高", "有多高"},
        "瓦屋镇修执法办公室花了多少钱？": {"花", "钱", "花了"},
        "三墩镇那年对外公开了多少条信息？": {"那年"},
        "峡口镇明年宣传准备搞些什么新花样？": {"搞些", "准备", "些"},
    }
    for question, asking in cases.items():
        terms = extractive.analyze(question).terms
        assert not asking & set(terms.weights), (question, terms.weights)
    assert extractive.analyze("峡口镇明年宣传准备搞些什么新花样？").terms.topic == "plans"
    a = extractive.ask("瓦屋镇修执法办公室花了多少钱？")
    assert not a.abstained and "15万余元" in a.text


def test_staff_words_for_the_public_and_banners_match_the_reports() -> None:
    from rag.retrieve.support import SYNONYM_CREDIT, support
    from rag.retrieve.terms import QuestionTerms

    assert support(QuestionTerms({"老百姓": 1.0}, False), "群众受教育率达95％以上") == (
        SYNONYM_CREDIT
    )
    assert support(QuestionTerms({"横幅": 1.0}, False), "悬挂法治宣传标语50余幅") == SYNONYM_CREDIT


def test_a_short_item_head_and_its_substance_are_one_claim(extractive: Pipeline) -> None:
    """二是党员干部的法律素养需提升。 says little alone: it and the sentence after it are
    one claim, cited once to the two sentences."""
    a = extractive.ask("瓦屋镇干部法律素养差在哪？")
    assert a.text.startswith("党员干部的法律素养需提升：部分干部法治意识更新知识学用结合不好")
    assert len(a.claims) == 1 and a.claims[0].verdict == "supported"
    (c,) = a.citations
    assert "法律素养需提升" in c.support_text and "学用结合不好" in c.support_text


def test_a_list_question_is_led_by_the_list_it_names(extractive: Pipeline) -> None:
    """哪些方式: the sentence closing its list with …等宣传方式 leads, before next year's plan
    (…等具有较强感染力和针对性的教育方式) and before a list of something else."""
    from rag.retrieve.support import lists_head

    assert lists_head("通过法制进村、送法入户，在辖区学校开展“大手拉小手”等宣传方式", "方式")
    assert lists_head("特别是征地拆迁、家风建设、集体资产分配、村民自治法等方面", "方面")
    assert not lists_head("以宣传专栏3期、院坝会2场、普法知识讲座4场、文艺宣讲1场等形式", "方面")
    assert extractive.analyze("峡口镇普法重点讲了哪些方面？").terms.list_head == "方面"
    a = extractive.ask("瓦屋镇用了哪些方式给群众普法？")
    assert a.text.startswith("瓦屋镇（2023年）：在辖区学校开展“大手拉小手”等宣传方式["), a.text
    assert "法制进村、送法入户" in a.text


def test_request_framing_is_not_content(extractive: Pipeline) -> None:
    """领导问…，帮我查下: how the question is wrapped says nothing about what is asked."""
    q = "领导问水口镇执法队伍去年一共培训过几回，帮我查下"
    terms = extractive.analyze(q).terms
    assert not {"领导", "帮", "我", "查下"} & set(terms.weights), terms.weights
    a = extractive.ask(q)
    assert not a.abstained and "15次" in a.text


def test_staff_words_no_report_uses_are_searched_in_the_reports_words(
    extractive: Pipeline,
) -> None:
    """讨回工钱 / 打官司的案子: the reports say 追回欠薪 / 诉讼案件; a keyword search for the
    staff's words alone ranks the passage out of the sources."""
    query = extractive.analyze("三墩镇帮农民工讨回了多少工钱？")
    assert {"追回", "欠薪"} <= set(query.expansion), query.expansion
    assert "追回" in query.lexical and query.text == "三墩镇帮农民工讨回了多少工钱？"
    a = extractive.ask("三墩镇帮农民工讨回了多少工钱？")
    assert not a.abstained and "近900万元" in a.text
    b = extractive.ask("水口镇那边打官司的新案子有几个？")
    assert not b.abstained and "1宗" in b.text
    # a word the reports use is not expanded: its own matches are the evidence
    assert extractive.analyze("水口镇执法培训几次？").expansion == ()


def test_a_short_item_head_before_the_answer_is_part_of_it(extractive: Pipeline) -> None:
    """The sentence that explains it is the best match, but 二是…形式较为单一。 right before
    it states the shortcoming: both are cited, as one claim."""
    q = "峡口镇普法为啥效果不好？"
    assert extractive.analyze(q).terms.topic == "shortcomings"
    a = extractive.ask(q)
    assert "形式较为单一" in a.text and "效果还不够理想" in a.text
    (c,) = a.citations
    assert "形式较为单一" in c.support_text


def test_a_label_glued_to_a_verb_is_split(extractive: Pipeline) -> None:
    """多少个村配上了 is tokenized 村配, a word no report uses: it is 村 and 配, and the
    sentence with 144个村(社区)均配备法律顾问 leads."""
    terms = extractive.analyze("金湖县有多少个村配上了法律顾问？").terms
    assert "村配" not in terms.weights and "村" in terms.weights
    a = extractive.ask("金湖县有多少个村配上了法律顾问？")
    assert (
        a.text.splitlines()[0].startswith("金湖县（2024年）：")
        and "144个" in a.text.splitlines()[0]
    )


def test_a_plan_stated_in_its_title_is_answered_with_it(extractive: Pipeline) -> None:
    """(二)继续推进“一村(居)一法律顾问”建设… is both a section title and the plan asked for."""
    a = extractive.ask("水口镇明年打算请律师给村里做什么？")
    assert "一村(居)一法律顾问" in a.text
    assert any("一村(居)一法律顾问" in c.support_text for c in a.citations)


def test_a_word_no_report_uses_weighs_the_same_in_a_bigger_corpus() -> None:
    """The IDF of a word no report uses grows with the number of chunks; that of the words
    the reports do use does not when reports come alike (copies, other towns' reports). The
    unused word must not weigh more in a bigger corpus, or the same question is refused
    there (the near-duplicate index refused 金湖县法律顾问都从哪些人里请？)."""
    import math

    from rag.retrieve.support import support
    from rag.retrieve.terms import QuestionTerms, question_terms

    def terms(n_chunks: int) -> QuestionTerms:
        dfs = {"法律顾问": n_chunks // 20}  # a report word, in 5% of the chunks at any size

        def idf(t: str) -> float:
            df = dfs.get(t, 0)
            return math.log(1.0 + (n_chunks - df + 0.5) / (df + 0.5))

        return question_terms(
            "金湖县法律顾问都从哪些人里请？",
            lambda q: ["金湖县", "法律顾问", "都", "从", "哪些", "人里", "请"],
            lambda q: [],
            idf,
            frozenset({"金湖县"}),
            df=lambda t: dfs.get(t, 0),
        )

    small, big = terms(100), terms(100_000)
    assert small.weights["人里"] == big.weights["人里"]
    sentence = "各相关单位共聘请单位内部公职律师9名、社会律师22人担任本单位法律顾问"
    assert support(small, sentence) == pytest.approx(support(big, sentence), rel=0.02)
